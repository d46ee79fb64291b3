import { Migration } from '@mikro-orm/migrations';

export class Migration20261125105810_transcript_titles_export_files extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "transcripts" add column "title" text not null default '', add column "model" text null, add column "channel_count" int not null default 1;`);

    this.addSql(`alter table "exports" add column "options" jsonb not null default '{}', add column "filename" text not null default '', add column "size_bytes" bigint null, add column "completed_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "exports" drop column "options", drop column "filename", drop column "size_bytes", drop column "completed_at";`);

    this.addSql(`alter table "transcripts" drop column "title", drop column "model", drop column "channel_count";`);
  }

}
