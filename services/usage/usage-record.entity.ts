import { DecimalType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema, type ProducerRef } from "../platform/database/base.entity.js";
import { Organization } from "../identity/model/organization.entity.js";

/** `live`: a StreamingRecognize stream or live session; `batch`: a job; `recognize`: one Recognize call. */
export const USAGE_KINDS = ["live", "batch", "recognize"] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

/**
 * Billable audio seconds. Each job and each live session is counted once: the unique indexes on `job` and
 * `liveSession` turn a retried "record usage" step into a conflict instead of a second charge. A Recognize
 * call has neither: it is recorded once, when it has succeeded.
 */
export class UsageRecord extends BaseEntity {
  organization!: Organization;
  kind!: UsageKind;
  seconds!: number;
  /** The job that produced it (by entity name: the jobs capability sits above this one). */
  job: ProducerRef | null = null;
  /** The live session that produced it, likewise. */
  liveSession: ProducerRef | null = null;
  /**
   * The API key the work was done with (GetUsage's `api_key_id`); null for a user's token. An id, not a
   * reference: billing history outlives the key.
   */
  apiKeyId: string | null = null;
  recordedAt: Opt<Date> = new Date();
}

export const UsageRecordSchema = new EntitySchema<UsageRecord, BaseEntity>({
  class: UsageRecord,
  extends: BaseEntitySchema,
  tableName: "usage_records",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    kind: { enum: true, items: [...USAGE_KINDS] },
    seconds: { type: new DecimalType("number"), precision: 14, scale: 3 },
    // Billing history outlives the job or session it measured.
    job: { kind: "m:1", entity: "Job", nullable: true, deleteRule: "set null", unique: true },
    liveSession: { kind: "m:1", entity: "LiveSession", nullable: true, deleteRule: "set null", unique: true },
    apiKeyId: { type: "uuid", nullable: true },
    recordedAt: { type: "datetime", defaultRaw: "now()" },
  },
  indexes: [{ properties: ["organization", "recordedAt"] }],
  checks: [{ name: "usage_records_seconds_check", expression: "seconds >= 0" }],
});
