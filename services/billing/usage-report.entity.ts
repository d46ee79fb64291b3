import { EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { Organization } from "../identity/model/organization.entity.js";
import { UsageRecord } from "../usage/usage-record.entity.js";

/**
 * Usage sent (or being sent) to Stripe as one meter event. Made, with its records claimed, in one
 * transaction before anything is sent; its id is the meter event's `identifier` and the request's
 * idempotency key, so sending it again after a crash is deduplicated by Stripe, and `sentAt` stops the resend.
 */
export class UsageReport extends BaseEntity {
  organization!: Organization;
  stripeCustomerId!: string;
  /** Billed audio of the records claimed. */
  seconds!: number;
  /** The latest `recorded_at` of its records: the meter event's timestamp. */
  usageUntil!: Date;
  sentAt: Date | null = null;
  attempts: Opt<number> = 0;
}

export const UsageReportSchema = new EntitySchema<UsageReport, BaseEntity>({
  class: UsageReport,
  extends: BaseEntitySchema,
  tableName: "billing_usage_reports",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    stripeCustomerId: { type: "text" },
    seconds: { type: "integer" },
    usageUntil: { type: "datetime" },
    sentAt: { type: "datetime", nullable: true },
    attempts: { type: "integer", default: 0 },
  },
  indexes: [{ properties: ["sentAt"] }, { properties: ["organization", "createdAt"] }],
});

/** A usage record claimed by a report: each record is reported once (the unique key), whoever runs the reporter. */
export class ReportedUsage {
  usageRecord!: UsageRecord;
  report!: UsageReport;
}

export const ReportedUsageSchema = new EntitySchema<ReportedUsage>({
  class: ReportedUsage,
  tableName: "billing_reported_usage",
  properties: {
    usageRecord: { kind: "m:1", entity: () => UsageRecord, primary: true, deleteRule: "cascade" },
    report: { kind: "m:1", entity: () => UsageReport, deleteRule: "cascade" },
  },
  indexes: [{ properties: ["report"] }],
});
