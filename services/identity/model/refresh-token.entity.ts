import { EntitySchema } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../../platform/database/base.entity.js";
import { Organization } from "./organization.entity.js";
import { User } from "./user.entity.js";

/**
 * One refresh token of a rotation chain. Every token of a sign-in shares `familyId`; presenting a token that
 * was already replaced is reuse, and revokes the whole family.
 */
export class RefreshToken extends BaseEntity {
  user!: User;
  /** The organisation the session was issued for; null before the user picks one. */
  organization: Organization | null = null;
  familyId!: string;
  tokenHash!: string;
  expiresAt!: Date;
  revokedAt: Date | null = null;
  /** The token this one was rotated into. */
  replacedBy: RefreshToken | null = null;
  userAgent: string | null = null;
  ip: string | null = null;
}

export const RefreshTokenSchema = new EntitySchema<RefreshToken, BaseEntity>({
  class: RefreshToken,
  extends: BaseEntitySchema,
  tableName: "refresh_tokens",
  properties: {
    user: { kind: "m:1", entity: () => User, deleteRule: "cascade", index: true },
    organization: { kind: "m:1", entity: () => Organization, nullable: true, deleteRule: "cascade", index: true },
    familyId: { type: "uuid", index: true },
    tokenHash: { type: "text", unique: true, hidden: true },
    expiresAt: { type: "datetime" },
    revokedAt: { type: "datetime", nullable: true },
    replacedBy: { kind: "m:1", entity: () => RefreshToken, nullable: true, deleteRule: "set null", index: true },
    userAgent: { type: "text", nullable: true },
    ip: { type: "text", nullable: true },
  },
});
