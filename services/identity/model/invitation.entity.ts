import { EntitySchema } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../../platform/database/base.entity.js";
import { User } from "./user.entity.js";
import { Organization } from "./organization.entity.js";
import { ROLES, type Role } from "./membership.entity.js";

/** An emailed offer to join an organisation. Only the hash of the token is stored. */
export class Invitation extends BaseEntity {
  organization!: Organization;
  email!: string;
  role!: Role;
  tokenHash!: string;
  expiresAt!: Date;
  acceptedAt: Date | null = null;
  invitedBy: User | null = null;
}

export const InvitationSchema = new EntitySchema<Invitation, BaseEntity>({
  class: Invitation,
  extends: BaseEntitySchema,
  tableName: "invitations",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    email: { type: "text" },
    role: { enum: true, items: [...ROLES] },
    tokenHash: { type: "text", unique: true, hidden: true },
    expiresAt: { type: "datetime" },
    acceptedAt: { type: "datetime", nullable: true },
    invitedBy: { kind: "m:1", entity: () => User, nullable: true, deleteRule: "set null", index: true },
  },
  indexes: [{ properties: ["organization", "createdAt"] }],
});
