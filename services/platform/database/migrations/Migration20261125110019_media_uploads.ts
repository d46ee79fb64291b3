import { Migration } from '@mikro-orm/migrations';

export class Migration20261125110019_media_uploads extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "media" drop constraint if exists "media_status_check";`);

    this.addSql(`alter table "media" add column "labels" jsonb not null default '{}', add column "expected_size_bytes" bigint null, add column "upload_id" text null, add column "part_size_bytes" bigint null, add column "upload_expires_at" timestamptz null, add column "uploaded_at" timestamptz null, add column "container" text null, add column "has_video" boolean null, add column "error_code" text null, add column "error_message" text null;`);
    this.addSql(`alter table "media" add constraint "media_status_check" check("status" in ('pending', 'processing', 'ready', 'failed', 'deleted'));`);
    this.addSql(`create index "media_status_updated_at_index" on "media" ("status", "updated_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "media" drop constraint if exists "media_status_check";`);

    this.addSql(`drop index "media_status_updated_at_index";`);
    this.addSql(`alter table "media" drop column "labels", drop column "expected_size_bytes", drop column "upload_id", drop column "part_size_bytes", drop column "upload_expires_at", drop column "uploaded_at", drop column "container", drop column "has_video", drop column "error_code", drop column "error_message";`);

    this.addSql(`alter table "media" add constraint "media_status_check" check("status" in ('pending', 'ready', 'failed', 'deleted'));`);
  }

}
