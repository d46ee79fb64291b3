import { EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../../platform/database/base.entity.js";
import { ApiKey } from "./api-key.entity.js";
import { User } from "./user.entity.js";
import { Organization } from "./organization.entity.js";

/**
 * A security-relevant event (sign-in, key created, role changed…). Append-only. Every reference is nullable
 * and set to null when its row goes, so the trail outlives the users, keys and organisations it mentions.
 */
export class AuditEvent extends BaseEntity {
  /** Null for platform-level events (e.g. a failed sign-in for an unknown email). */
  organization: Organization | null = null;
  actorUser: User | null = null;
  actorApiKey: ApiKey | null = null;
  /** Dotted verb, e.g. "api_key.create", "auth.refresh_reuse". */
  action!: string;
  targetType: string | null = null;
  targetId: string | null = null;
  ip: string | null = null;
  userAgent: string | null = null;
  metadata: Opt<Record<string, unknown>> = {};
}

export const AuditEventSchema = new EntitySchema<AuditEvent, BaseEntity>({
  class: AuditEvent,
  extends: BaseEntitySchema,
  tableName: "audit_events",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, nullable: true, deleteRule: "set null" },
    actorUser: { kind: "m:1", entity: () => User, nullable: true, deleteRule: "set null", index: true },
    actorApiKey: { kind: "m:1", entity: () => ApiKey, nullable: true, deleteRule: "set null", index: true },
    action: { type: "text" },
    targetType: { type: "text", nullable: true },
    targetId: { type: "text", nullable: true },
    ip: { type: "text", nullable: true },
    userAgent: { type: "text", nullable: true },
    metadata: { type: "json", defaultRaw: "'{}'" },
  },
  indexes: [{ properties: ["organization", "createdAt"] }],
});
