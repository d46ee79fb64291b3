import { EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";

export const ERASURE_SUBJECT_TYPES = ["user", "organization"] as const;
export type ErasureSubjectType = (typeof ERASURE_SUBJECT_TYPES)[number];

export const ERASURE_STATUSES = ["pending", "running", "completed"] as const;
export type ErasureStatus = (typeof ERASURE_STATUSES)[number];

/**
 * A request to erase a user or an organisation, written before anything is erased so that an erasure a crash
 * interrupted is finished at the next start. It outlives its subject, so it holds no foreign key and no personal
 * data: the subject's id, who asked (an id, cleared if that user is erased too) and how far it got.
 */
export class Erasure extends BaseEntity {
  subjectType!: ErasureSubjectType;
  subjectId!: string;
  status: Opt<ErasureStatus> = "pending";
  /** The user who asked; GetErasure is theirs to read. Cleared when that user is erased. */
  requestedBy: string | null = null;
  /** Whether the one who asked was a platform admin rather than the subject's owner (for the audit event). */
  byPlatformAdmin: Opt<boolean> = false;
  attempts: Opt<number> = 0;
  /** While running: the process carrying it out holds it until then; a lapsed lease lets another take over. */
  leaseUntil: Date | null = null;
  /** The last failure, without personal data; the erasure is tried again. */
  lastError: string | null = null;
  completedAt: Date | null = null;
}

export const ErasureSchema = new EntitySchema<Erasure, BaseEntity>({
  class: Erasure,
  extends: BaseEntitySchema,
  tableName: "erasures",
  properties: {
    subjectType: { enum: true, items: [...ERASURE_SUBJECT_TYPES] },
    subjectId: { type: "uuid" },
    status: { enum: true, items: [...ERASURE_STATUSES], default: "pending" },
    requestedBy: { type: "uuid", nullable: true },
    byPlatformAdmin: { type: "boolean", default: false },
    attempts: { type: "integer", default: 0 },
    leaseUntil: { type: "datetime", nullable: true },
    lastError: { type: "text", nullable: true },
    completedAt: { type: "datetime", nullable: true },
  },
  // One erasure per subject: asking twice finds the first.
  uniques: [{ properties: ["subjectType", "subjectId"] }],
  indexes: [{ properties: ["status", "leaseUntil"] }],
});
