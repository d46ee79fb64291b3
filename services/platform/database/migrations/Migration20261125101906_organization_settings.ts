import { Migration } from '@mikro-orm/migrations';

export class Migration20261125101906_organization_settings extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "organizations" add column "suspension_reason" text null, add column "settings" jsonb not null default '{}';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "organizations" drop column "suspension_reason", drop column "settings";`);
  }

}
