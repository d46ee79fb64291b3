import { EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../../platform/database/base.entity.js";

/** A person who signs in. Users belong to organisations through memberships. */
export class User extends BaseEntity {
  /** Kept as typed; uniqueness ignores case (see the lower(email) index), so look users up by lower(email). */
  email!: string;
  /** argon2id hash (PHC string). */
  passwordHash!: string;
  displayName: string | null = null;
  emailVerifiedAt: Date | null = null;
  /** Operators of the platform itself (admin service), not of a tenant. */
  isPlatformAdmin: Opt<boolean> = false;
  /** Access tokens issued before this are refused (password reset or change, logout everywhere). */
  sessionsRevokedAt: Date | null = null;
  /** When the user last logged in with a password; null if never (a registration is not a login). */
  lastLoginAt: Date | null = null;
}

export const UserSchema = new EntitySchema<User, BaseEntity>({
  class: User,
  extends: BaseEntitySchema,
  tableName: "users",
  properties: {
    email: { type: "text" },
    passwordHash: { type: "text", hidden: true },
    displayName: { type: "text", nullable: true },
    emailVerifiedAt: { type: "datetime", nullable: true },
    isPlatformAdmin: { type: "boolean", default: false },
    sessionsRevokedAt: { type: "datetime", nullable: true },
    lastLoginAt: { type: "datetime", nullable: true },
  },
  uniques: [
    // An expression index rather than citext: citext is an extension PGlite would have to load separately.
    { name: "users_email_lower_unique", expression: 'create unique index "users_email_lower_unique" on "users" (lower("email"))' },
  ],
});
