import { Migration } from '@mikro-orm/migrations';

export class Migration20261207103000_jobs_stage_progress extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "jobs" add column "stage_progress" real not null default 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "jobs" drop column "stage_progress";`);
  }

}
