import { ArrayType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../../platform/database/base.entity.js";
import { User } from "./user.entity.js";
import { Organization } from "./organization.entity.js";

/**
 * A secret for programs. The full key is shown once; what is kept is a public prefix to find the row and a hash
 * of the whole key to check it.
 */
export class ApiKey extends BaseEntity {
  organization!: Organization;
  name!: string;
  prefix!: string;
  keyHash!: string;
  scopes: Opt<string[]> = [];
  expiresAt: Date | null = null;
  lastUsedAt: Date | null = null;
  revokedAt: Date | null = null;
  createdBy: User | null = null;
}

export const ApiKeySchema = new EntitySchema<ApiKey, BaseEntity>({
  class: ApiKey,
  extends: BaseEntitySchema,
  tableName: "api_keys",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    name: { type: "text" },
    prefix: { type: "text", unique: true },
    keyHash: { type: "text", hidden: true },
    scopes: { type: ArrayType, defaultRaw: "'{}'" },
    expiresAt: { type: "datetime", nullable: true },
    lastUsedAt: { type: "datetime", nullable: true },
    revokedAt: { type: "datetime", nullable: true },
    createdBy: { kind: "m:1", entity: () => User, nullable: true, deleteRule: "set null", index: true },
  },
  indexes: [{ properties: ["organization", "createdAt"] }],
});
