import { EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../../platform/database/base.entity.js";

/** Defaults applied to every request of the organisation (OrganizationSettings in the API). */
export interface OrganizationSettings {
  defaultLanguageCode?: string;
  defaultModel?: string;
  retentionDays?: number;
  /** Overrides the plan's monthly audio quota (services/usage); 0 means unlimited. Set by operators. */
  audioSecondsPerMonth?: number;
}

export const ORGANIZATION_STATUSES = ["active", "suspended"] as const;
export type OrganizationStatus = (typeof ORGANIZATION_STATUSES)[number];

/** A tenant: every other tenant row carries its id. */
export class Organization extends BaseEntity {
  name!: string;
  /** URL-safe, globally unique handle. */
  slug!: string;
  /** Free text rather than an enum: plans change with pricing, not with the schema. */
  plan: Opt<string> = "free";
  status: Opt<OrganizationStatus> = "active";
  suspendedAt: Date | null = null;
  suspensionReason: string | null = null;
  settings: Opt<OrganizationSettings> = {};
}

export const OrganizationSchema = new EntitySchema<Organization, BaseEntity>({
  class: Organization,
  extends: BaseEntitySchema,
  tableName: "organizations",
  properties: {
    name: { type: "text" },
    slug: { type: "text", unique: true },
    plan: { type: "text", default: "free" },
    status: { enum: true, items: [...ORGANIZATION_STATUSES], default: "active" },
    suspendedAt: { type: "datetime", nullable: true },
    suspensionReason: { type: "text", nullable: true },
    settings: { type: "json", defaultRaw: "'{}'" },
  },
});
