import { EntitySchema } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../../platform/database/base.entity.js";
import { User } from "./user.entity.js";

export const ONE_TIME_TOKEN_PURPOSES = ["email_verification", "password_reset"] as const;
export type OneTimeTokenPurpose = (typeof ONE_TIME_TOKEN_PURPOSES)[number];

/** A single-use emailed link (verify email, reset password). Only the hash of the token is stored. */
export class OneTimeToken extends BaseEntity {
  user!: User;
  purpose!: OneTimeTokenPurpose;
  tokenHash!: string;
  expiresAt!: Date;
  usedAt: Date | null = null;
}

export const OneTimeTokenSchema = new EntitySchema<OneTimeToken, BaseEntity>({
  class: OneTimeToken,
  extends: BaseEntitySchema,
  tableName: "one_time_tokens",
  properties: {
    user: { kind: "m:1", entity: () => User, deleteRule: "cascade", index: true },
    purpose: { enum: true, items: [...ONE_TIME_TOKEN_PURPOSES] },
    tokenHash: { type: "text", unique: true, hidden: true },
    expiresAt: { type: "datetime" },
    usedAt: { type: "datetime", nullable: true },
  },
});
