import { Migration } from '@mikro-orm/migrations';

export class Migration20261125111057_webhook_rotation_callbacks_attempts extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "webhook_deliveries" drop constraint if exists "webhook_deliveries_status_check";`);

    this.addSql(`alter table "webhook_endpoints" add column "secret_prefix" text not null default '', add column "previous_secret_encrypted" text null, add column "previous_secret_expires_at" timestamptz null, add column "description" text not null default '', add column "callback_for_job_id" uuid null;`);
    this.addSql(`create index "webhook_endpoints_callback_for_job_id_index" on "webhook_endpoints" ("callback_for_job_id");`);

    this.addSql(`alter table "webhook_deliveries" add column "last_attempt_at" timestamptz null;`);
    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_status_check" check("status" in ('pending', 'retrying', 'delivered', 'failed'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "webhook_deliveries" drop constraint if exists "webhook_deliveries_status_check";`);

    this.addSql(`alter table "webhook_deliveries" drop column "last_attempt_at";`);

    this.addSql(`alter table "webhook_deliveries" add constraint "webhook_deliveries_status_check" check("status" in ('pending', 'delivered', 'failed'));`);

    this.addSql(`drop index "webhook_endpoints_callback_for_job_id_index";`);
    this.addSql(`alter table "webhook_endpoints" drop column "secret_prefix", drop column "previous_secret_encrypted", drop column "previous_secret_expires_at", drop column "description", drop column "callback_for_job_id";`);
  }

}
