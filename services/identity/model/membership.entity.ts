import { EntitySchema } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../../platform/database/base.entity.js";
import { User } from "./user.entity.js";
import { Organization } from "./organization.entity.js";

/** Roles in the order of what they may do; the RPC permission table maps each RPC to the least role. */
export const ROLES = ["owner", "admin", "member", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** A user's role in one organisation. */
export class Membership extends BaseEntity {
  organization!: Organization;
  user!: User;
  role!: Role;
}

export const MembershipSchema = new EntitySchema<Membership, BaseEntity>({
  class: Membership,
  extends: BaseEntitySchema,
  tableName: "memberships",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    user: { kind: "m:1", entity: () => User, deleteRule: "cascade", index: true },
    role: { enum: true, items: [...ROLES] },
  },
  uniques: [{ properties: ["organization", "user"] }],
});
