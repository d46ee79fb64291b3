import { Migration } from '@mikro-orm/migrations';

export class Migration20261207130821_usage_recognize_api_key_member_activity extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "usage_records" drop constraint if exists "usage_records_kind_check";`);

    this.addSql(`alter table "memberships" add column "last_active_at" timestamptz null;`);

    this.addSql(`alter table "usage_records" add column "api_key_id" uuid null;`);
    this.addSql(`alter table "usage_records" add constraint "usage_records_kind_check" check("kind" in ('live', 'batch', 'recognize'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "usage_records" drop constraint if exists "usage_records_kind_check";`);

    this.addSql(`alter table "memberships" drop column "last_active_at";`);

    this.addSql(`alter table "usage_records" drop column "api_key_id";`);

    this.addSql(`alter table "usage_records" add constraint "usage_records_kind_check" check("kind" in ('live', 'batch'));`);
  }

}
