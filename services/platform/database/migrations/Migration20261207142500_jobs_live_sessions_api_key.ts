import { Migration } from '@mikro-orm/migrations';

export class Migration20261207142500_jobs_live_sessions_api_key extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "jobs" add column "api_key_id" uuid null;`);

    this.addSql(`alter table "live_sessions" add column "api_key_id" uuid null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "jobs" drop column "api_key_id";`);

    this.addSql(`alter table "live_sessions" drop column "api_key_id";`);
  }

}
