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
  /** The member's last authenticated request in this organisation, to the minute (services/identity/orgs/member-activity.ts). */
  lastActiveAt: Date | null = null;
}

export const MembershipSchema = new EntitySchema<Membership, BaseEntity>({
  class: Membership,
  extends: BaseEntitySchema,
  tableName: "memberships",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    user: { kind: "m:1", entity: () => User, deleteRule: "cascade", index: true },
    role: { enum: true, items: [...ROLES] },
    lastActiveAt: { type: "datetime", nullable: true },
  },
  uniques: [{ properties: ["organization", "user"] }],
});
