import { Migration } from '@mikro-orm/migrations';

export class Migration20261207130637_billing extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "billing_accounts" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "organization_id" uuid not null, "status" text check ("status" in ('active', 'past_due', 'suspended')) not null default 'active', "past_due_since" timestamptz null, "suspended_by_billing" boolean not null default false, "stripe_customer_id" text null, "stripe_subscription_id" text null, "metered_since" timestamptz null, "plan_changed_at" timestamptz null, "status_changed_at" timestamptz null, constraint "billing_accounts_pkey" primary key ("id"));`);
    this.addSql(`alter table "billing_accounts" add constraint "billing_accounts_organization_id_unique" unique ("organization_id");`);
    this.addSql(`alter table "billing_accounts" add constraint "billing_accounts_stripe_customer_id_unique" unique ("stripe_customer_id");`);
    this.addSql(`create index "billing_accounts_status_past_due_since_index" on "billing_accounts" ("status", "past_due_since");`);

    this.addSql(`create table "billing_stripe_events" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "event_id" text not null, "type" text not null, "event_created_at" timestamptz not null, "organization_id" uuid null, "applied" boolean not null default false, constraint "billing_stripe_events_pkey" primary key ("id"));`);
    this.addSql(`alter table "billing_stripe_events" add constraint "billing_stripe_events_event_id_unique" unique ("event_id");`);
    this.addSql(`create index "billing_stripe_events_organization_id_index" on "billing_stripe_events" ("organization_id");`);

    this.addSql(`create table "billing_usage_reports" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "organization_id" uuid not null, "stripe_customer_id" text not null, "seconds" int not null, "usage_until" timestamptz not null, "sent_at" timestamptz null, "attempts" int not null default 0, constraint "billing_usage_reports_pkey" primary key ("id"));`);
    this.addSql(`create index "billing_usage_reports_sent_at_index" on "billing_usage_reports" ("sent_at");`);
    this.addSql(`create index "billing_usage_reports_organization_id_created_at_index" on "billing_usage_reports" ("organization_id", "created_at");`);

    this.addSql(`create table "billing_reported_usage" ("usage_record_id" uuid not null, "report_id" uuid not null, constraint "billing_reported_usage_pkey" primary key ("usage_record_id"));`);
    this.addSql(`create index "billing_reported_usage_report_id_index" on "billing_reported_usage" ("report_id");`);

    this.addSql(`alter table "billing_accounts" add constraint "billing_accounts_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "billing_usage_reports" add constraint "billing_usage_reports_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "billing_reported_usage" add constraint "billing_reported_usage_usage_record_id_foreign" foreign key ("usage_record_id") references "usage_records" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "billing_reported_usage" add constraint "billing_reported_usage_report_id_foreign" foreign key ("report_id") references "billing_usage_reports" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "billing_reported_usage" drop constraint "billing_reported_usage_report_id_foreign";`);

    this.addSql(`drop table if exists "billing_accounts" cascade;`);

    this.addSql(`drop table if exists "billing_stripe_events" cascade;`);

    this.addSql(`drop table if exists "billing_usage_reports" cascade;`);

    this.addSql(`drop table if exists "billing_reported_usage" cascade;`);
  }

}
