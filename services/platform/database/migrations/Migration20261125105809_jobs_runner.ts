import { Migration } from '@mikro-orm/migrations';

export class Migration20261125105809_jobs_runner extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "jobs" add column "error_code" text null, add column "error_retryable" boolean not null default false, add column "request_hash" text null, add column "labels" jsonb not null default '{}', add column "webhook_secret" text null, add column "audio_duration_ms" int null, add column "billed_seconds" int null, add column "not_before" timestamptz null;`);
    this.addSql(`create index "jobs_status_updated_at_index" on "jobs" ("status", "updated_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "jobs_status_updated_at_index";`);
    this.addSql(`alter table "jobs" drop column "error_code", drop column "error_retryable", drop column "request_hash", drop column "labels", drop column "webhook_secret", drop column "audio_duration_ms", drop column "billed_seconds", drop column "not_before";`);
  }

}
