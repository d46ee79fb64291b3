import { EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { Organization } from "../identity/model/organization.entity.js";

export const BILLING_STATUSES = ["active", "past_due", "suspended"] as const;
/** active: paid up; past_due: a payment failed, the grace runs; suspended: the grace ran out (the organisation is suspended). */
export type BillingStatus = (typeof BILLING_STATUSES)[number];

/**
 * An organisation's billing: its payment status and, with Stripe, its customer and subscription. The plan
 * itself stays on the organisation (`organizations.plan`), where quotas read it. Made on first use.
 */
export class BillingAccount extends BaseEntity {
  organization!: Organization;
  status: Opt<BillingStatus> = "active";
  /** When the first payment of the current dunning failed; the grace counts from here. */
  pastDueSince: Date | null = null;
  /** This account suspended the organisation (and so lifts that suspension when paid); an operator's suspension is left alone. */
  suspendedByBilling: Opt<boolean> = false;
  stripeCustomerId: string | null = null;
  stripeSubscriptionId: string | null = null;
  /** Since when usage goes to Stripe's meter: the subscription's start. Usage before it is not reported. */
  meteredSince: Date | null = null;
  /**
   * `created` time of the newest Stripe event applied to the plan (subscriptions) and to the status
   * (invoices): an older event arriving later is recorded but changes nothing. A plan changed through the
   * API sets `planChangedAt` to the time of the change.
   */
  planChangedAt: Date | null = null;
  statusChangedAt: Date | null = null;
}

export const BillingAccountSchema = new EntitySchema<BillingAccount, BaseEntity>({
  class: BillingAccount,
  extends: BaseEntitySchema,
  tableName: "billing_accounts",
  properties: {
    organization: { kind: "1:1", entity: () => Organization, owner: true, deleteRule: "cascade", unique: true },
    status: { enum: true, items: [...BILLING_STATUSES], default: "active" },
    pastDueSince: { type: "datetime", nullable: true },
    suspendedByBilling: { type: "boolean", default: false },
    stripeCustomerId: { type: "text", nullable: true, unique: true },
    stripeSubscriptionId: { type: "text", nullable: true },
    meteredSince: { type: "datetime", nullable: true },
    planChangedAt: { type: "datetime", nullable: true },
    statusChangedAt: { type: "datetime", nullable: true },
  },
  indexes: [{ properties: ["status", "pastDueSince"] }],
});
