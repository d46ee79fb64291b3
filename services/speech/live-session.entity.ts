import { DecimalType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { User } from "../identity/model/user.entity.js";
import { Organization } from "../identity/model/organization.entity.js";

export const LIVE_SESSION_STATUSES = ["active", "closed", "expired", "failed"] as const;
export type LiveSessionStatus = (typeof LIVE_SESSION_STATUSES)[number];

/**
 * A browser live session (CreateLiveSession / SendLiveAudio / WatchLiveSession). The row is what survives a
 * dropped connection: which audio sequence to accept next and which result a watcher resumes after.
 */
export class LiveSession extends BaseEntity {
  organization!: Organization;
  status: Opt<LiveSessionStatus> = "active";
  config: Opt<Record<string, unknown>> = {};
  /** SendLiveAudio is idempotent by sequence number: the next one accepted. */
  nextSequence: Opt<number> = 0;
  /** Index of the last result emitted; null before the first. */
  lastResultIndex: number | null = null;
  audioSeconds: Opt<number> = 0;
  createdBy: User | null = null;
  /** The API key the session was opened with (its usage is that key's); null for a user's token. */
  apiKeyId: string | null = null;
  /** Past this, with no audio, the session is reaped. */
  expiresAt!: Date;
  closedAt: Date | null = null;
}

export const LiveSessionSchema = new EntitySchema<LiveSession, BaseEntity>({
  class: LiveSession,
  extends: BaseEntitySchema,
  tableName: "live_sessions",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    status: { enum: true, items: [...LIVE_SESSION_STATUSES], default: "active" },
    config: { type: "json", defaultRaw: "'{}'" },
    nextSequence: { type: "integer", default: 0 },
    lastResultIndex: { type: "integer", nullable: true },
    audioSeconds: { type: new DecimalType("number"), precision: 14, scale: 3, default: 0 },
    createdBy: { kind: "m:1", entity: () => User, nullable: true, deleteRule: "set null", index: true },
    apiKeyId: { type: "uuid", nullable: true },
    expiresAt: { type: "datetime" },
    closedAt: { type: "datetime", nullable: true },
  },
  // The second index serves the reaper: active sessions past their expiry.
  indexes: [{ properties: ["organization", "createdAt"] }, { properties: ["status", "expiresAt"] }],
});
