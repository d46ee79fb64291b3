import { Migration } from '@mikro-orm/migrations';

export class Migration20261207210000_segments_alternatives extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "segments" add column "alternatives" jsonb not null default '[]';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "segments" drop column "alternatives";`);
  }

}
