import { DecimalType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { Media } from "../media/media.entity.js";
import { Organization } from "../identity/model/organization.entity.js";

export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A batch transcription of one media file. */
export class Job extends BaseEntity {
  organization!: Organization;
  media!: Media;
  status: Opt<JobStatus> = "queued";
  /** The pipeline step running now (decode, vad, asr, …); free text so the pipeline can grow steps. */
  stage: string | null = null;
  progressPercent: Opt<number> = 0;
  /** How far `stage` is, 0 to 1; each stage starts from 0. */
  stageProgress: Opt<number> = 0;
  /** The recognition config as the client sent it (proto JSON). */
  config: Opt<Record<string, unknown>> = {};
  /** Client-chosen; a second CreateJob with the same key in the same organisation returns the first job. */
  idempotencyKey: string | null = null;
  /** The API key the job was created with (its usage is that key's, for GetUsage's `api_key_id`); null for a user's token. */
  apiKeyId: string | null = null;
  /** Higher runs first. */
  priority: Opt<number> = 0;
  webhookUrl: string | null = null;
  /** A known-correct transcript; when given, the job scores itself (wer, cer). */
  referenceText: string | null = null;
  attempts: Opt<number> = 0;
  errorReason: string | null = null;
  startedAt: Date | null = null;
  finishedAt: Date | null = null;
  wer: number | null = null;
  cer: number | null = null;
  /** Stable machine-readable failure reason (UNSUPPORTED_AUDIO, INTERNAL, …) next to `errorReason`. */
  errorCode: string | null = null;
  /** True when `errorCode` names a transient fault that the same work may get past. */
  errorRetryable: Opt<boolean> = false;
  /** SHA-256 of the creating request, so a reused idempotency key with a different request is refused. */
  requestHash: string | null = null;
  labels: Opt<Record<string, string>> = {};
  /** Signs deliveries to `webhookUrl`; shown to the client once, at creation. */
  webhookSecret: string | null = null;
  /** The decoded audio's duration, once a run has decoded it. */
  audioDurationMs: number | null = null;
  /** Billed audio (services/usage/billable.ts: seconds times channels recognised, rounded up); set once succeeded. */
  billedSeconds: number | null = null;
  /** When a transient failure put the job back in the queue, it runs again no earlier than this. */
  notBefore: Date | null = null;
}

export const JobSchema = new EntitySchema<Job, BaseEntity>({
  class: Job,
  extends: BaseEntitySchema,
  tableName: "jobs",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    // No cascade: media is soft-deleted, and hard-deleting a file that jobs point at must be a decision.
    media: { kind: "m:1", entity: () => Media, deleteRule: "no action", index: true },
    status: { enum: true, items: [...JOB_STATUSES], default: "queued" },
    stage: { type: "text", nullable: true },
    progressPercent: { type: "smallint", default: 0 },
    stageProgress: { type: "real", default: 0 },
    config: { type: "json", defaultRaw: "'{}'" },
    idempotencyKey: { type: "text", nullable: true },
    apiKeyId: { type: "uuid", nullable: true },
    priority: { type: "smallint", default: 0 },
    webhookUrl: { type: "text", nullable: true },
    referenceText: { type: "text", nullable: true },
    attempts: { type: "integer", default: 0 },
    errorReason: { type: "text", nullable: true },
    startedAt: { type: "datetime", nullable: true },
    finishedAt: { type: "datetime", nullable: true },
    // Error rates can pass 1 (insertions), so four integer digits.
    wer: { type: new DecimalType("number"), precision: 8, scale: 4, nullable: true },
    cer: { type: new DecimalType("number"), precision: 8, scale: 4, nullable: true },
    errorCode: { type: "text", nullable: true },
    errorRetryable: { type: "boolean", default: false },
    requestHash: { type: "text", nullable: true },
    labels: { type: "json", defaultRaw: "'{}'" },
    webhookSecret: { type: "text", nullable: true },
    audioDurationMs: { type: "integer", nullable: true },
    billedSeconds: { type: "integer", nullable: true },
    notBefore: { type: "datetime", nullable: true },
  },
  indexes: [{ properties: ["organization", "createdAt"] }, { properties: ["organization", "status"] }, { properties: ["status", "updatedAt"] }],
  // NULL keys never collide, so jobs created without a key are unconstrained.
  uniques: [{ properties: ["organization", "idempotencyKey"] }],
  checks: [{ name: "jobs_progress_percent_check", expression: "progress_percent >= 0 and progress_percent <= 100" }],
});
