import { Migration } from '@mikro-orm/migrations';

export class Migration20261207131639_privacy_exports_erasures extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "erasures" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "subject_type" text check ("subject_type" in ('user', 'organization')) not null, "subject_id" uuid not null, "status" text check ("status" in ('pending', 'running', 'completed')) not null default 'pending', "requested_by" uuid null, "by_platform_admin" boolean not null default false, "attempts" int not null default 0, "lease_until" timestamptz null, "last_error" text null, "completed_at" timestamptz null, constraint "erasures_pkey" primary key ("id"));`);
    this.addSql(`create index "erasures_status_lease_until_index" on "erasures" ("status", "lease_until");`);
    this.addSql(`alter table "erasures" add constraint "erasures_subject_type_subject_id_unique" unique ("subject_type", "subject_id");`);

    this.addSql(`create table "data_exports" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "organization_id" uuid not null, "requested_by_id" uuid null, "status" text check ("status" in ('pending', 'running', 'succeeded', 'failed')) not null default 'pending', "progress_percent" int not null default 0, "storage_key" text null, "size_bytes" bigint null, "error" text null, "lease_until" timestamptz null, "completed_at" timestamptz null, constraint "data_exports_pkey" primary key ("id"));`);
    this.addSql(`create index "data_exports_requested_by_id_index" on "data_exports" ("requested_by_id");`);
    this.addSql(`create index "data_exports_organization_id_created_at_index" on "data_exports" ("organization_id", "created_at");`);
    this.addSql(`create index "data_exports_status_lease_until_index" on "data_exports" ("status", "lease_until");`);

    this.addSql(`alter table "data_exports" add constraint "data_exports_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "data_exports" add constraint "data_exports_requested_by_id_foreign" foreign key ("requested_by_id") references "users" ("id") on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "erasures" cascade;`);

    this.addSql(`drop table if exists "data_exports" cascade;`);
  }

}
