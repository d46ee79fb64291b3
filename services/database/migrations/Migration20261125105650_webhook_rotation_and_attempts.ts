import { Migration } from '@mikro-orm/migrations';

export class Migration20261125105650_webhook_rotation_and_attempts extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "webhook_deliveries" drop constraint if exists "webhook_deliveries_status_check";`);

    this.addSql(`alter table "webhook_endpoints" add column "secret_prefix" text not null default '', add column "previous_secret_encrypted" text null, add column "previous_secret_expires_at" timestamptz null, add column "description" text not null default '';`);

    this.addSql(`alter table "webhook_deliveries" add column "last_attempt_at" timestamptz null;`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_status_check" check("status" in ('pending', 'retrying', 'delivered', 'failed'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_deliveries" drop constraint if exists "webhook_deliveries_status_check";`);

    this.addSql(`alter table "webhook_deliveries" drop column "last_attempt_at";`);

    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_status_check" check("status" in ('pending', 'delivered', 'failed'));`);

    this.addSql(`alter table "webhook_endpoints" drop column "secret_prefix", drop column "previous_secret_encrypted", drop column "previous_secret_expires_at", drop column "description";`);
  }

}
