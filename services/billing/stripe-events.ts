// Stripe's webhooks: verified (stripe.webhooks.constructEvent, in stripe-payments.ts), applied once per event
// id, and in the order Stripe made them rather than the order they arrive. Subscription events set the
// organisation's plan; invoice.payment_failed makes it past due (suspended after the grace, by
// Billing.suspendOverdue), invoice.paid makes it active again and lifts a suspension billing made.
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Database } from "../platform/database/database.js";
import type { Logger } from "../platform/logger.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import { anonymousCaller } from "../identity/model/principal.js";
import { Organization } from "../identity/model/organization.entity.js";
import { BillingAccount } from "./billing-account.entity.js";
import type { PaymentEvent, PaymentProcessor } from "./payments.js";
import type { Plans } from "./plans.js";
import type { OrganizationSnapshots } from "../identity/orgs/organization-snapshots.js";

/** Stripe subscription states after which the subscription is over. */
const ENDED = new Set(["canceled", "incomplete_expired"]);

export type EventOutcome =
  /** Applied now. */
  | "applied"
  /** Recorded, and nothing to change: older than what was applied, or about nothing of ours. */
  | "ignored"
  /** Seen before: a replay. */
  | "duplicate";

export class StripeEvents {
  constructor(
    private readonly database: Database,
    private readonly payments: PaymentProcessor,
    private readonly plans: Plans,
    private readonly priceIds: Record<string, string[]>,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    /** Told of each organisation an event changed, so this replica's next check reads it. */
    private readonly organizations?: Pick<OrganizationSnapshots, "invalidate">,
  ) {}

  /** Verifies and applies one webhook; throws WebhookSignatureError when it is not Stripe's. */
  async receive(payload: Buffer, signature: string | undefined): Promise<EventOutcome> {
    const event = this.payments.verifyEvent(payload, signature);
    let restored: string | undefined;
    let changed: string | undefined;
    const outcome = await this.database.fork().transactional(async (em) => {
      const inserted = await em.execute<Array<{ id: string }>>(
        `insert into billing_stripe_events (event_id, type, event_created_at) values (?, ?, ?) on conflict (event_id) do nothing returning id`,
        [event.id, event.type, event.createdAt],
      );
      if (inserted.length === 0) return "duplicate" as const;
      const account = await this.accountFor(em, event);
      const applied = account ? await this.apply(em, account, event, (organizationId) => (restored = organizationId)) : false;
      await em.execute(`update billing_stripe_events set applied = ?, organization_id = ? where event_id = ?`, [applied, account?.organization.id ?? null, event.id]);
      if (applied) changed = account?.organization.id;
      return applied ? ("applied" as const) : ("ignored" as const);
    });
    if (changed) this.organizations?.invalidate(changed);
    this.logger.info({ stripeEventId: event.id, type: event.type, outcome }, "stripe event");
    if (restored) {
      await this.audit.record({ action: "billing.restore", outcome: "success", organizationId: restored, targetType: "organization", targetId: restored, details: { stripeEventId: event.id } }, anonymousCaller);
    }
    return outcome;
  }

  /** The account of the event's customer, or of the organisation its subscription names; locked. */
  private async accountFor(em: EntityManager, event: PaymentEvent): Promise<BillingAccount | null> {
    if (event.customerId) {
      const byCustomer = await em.findOne(BillingAccount, { stripeCustomerId: event.customerId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (byCustomer) return byCustomer;
    }
    const organizationId = event.subscription?.metadata.organization_id;
    if (!organizationId || !/^[0-9a-f-]{36}$/.test(organizationId)) return null;
    if (!(await em.findOne(Organization, { id: organizationId }))) return null;
    await em.execute(`insert into billing_accounts (organization_id) values (?) on conflict (organization_id) do nothing`, [organizationId]);
    const account = await em.findOneOrFail(BillingAccount, { organization: organizationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (account.stripeCustomerId && account.stripeCustomerId !== event.customerId) return null;
    account.stripeCustomerId ??= event.customerId ?? null;
    return account;
  }

  /** Applies `event` to `account`; `onRestored` hears of an organisation whose billing suspension it lifted. */
  private async apply(em: EntityManager, account: BillingAccount, event: PaymentEvent, onRestored: (organizationId: string) => void): Promise<boolean> {
    const organization = await em.findOneOrFail(Organization, { id: account.organization.id });
    const subscription = event.subscription;
    if (subscription && event.type.startsWith("customer.subscription.")) {
      if (account.planChangedAt && event.createdAt <= account.planChangedAt) return false;
      // An event about a subscription other than the account's current one (an old, replaced one) changes nothing.
      if (account.stripeSubscriptionId && account.stripeSubscriptionId !== subscription.id) return false;
      const ended = event.type === "customer.subscription.deleted" || ENDED.has(subscription.status);
      organization.plan = ended ? this.plans.defaultPlan : (this.planOf(subscription.priceIds) ?? subscription.metadata.plan ?? organization.plan);
      account.stripeSubscriptionId = ended ? null : subscription.id;
      account.meteredSince = ended ? null : (account.meteredSince ?? subscription.startedAt);
      account.planChangedAt = event.createdAt;
      await em.flush();
      return true;
    }
    if (event.type === "invoice.payment_failed" || event.type === "invoice.paid") {
      if (account.statusChangedAt && event.createdAt <= account.statusChangedAt) return false;
      account.statusChangedAt = event.createdAt;
      if (event.type === "invoice.payment_failed") {
        if (account.status === "active") {
          account.status = "past_due";
          account.pastDueSince = event.createdAt;
        }
      } else {
        account.status = "active";
        account.pastDueSince = null;
        if (account.suspendedByBilling && organization.status === "suspended") {
          organization.status = "active";
          organization.suspendedAt = null;
          organization.suspensionReason = null;
          onRestored(organization.id);
        }
        account.suspendedByBilling = false;
      }
      await em.flush();
      return true;
    }
    return false;
  }

  /**
   * The plan whose prices the subscription holds, all of them (plans may share a price, such as the metered
   * audio price): the one matching the most prices, so "pro" (base + audio) wins over a plan of audio alone.
   */
  private planOf(priceIds: string[]): string | undefined {
    const matches = Object.entries(this.priceIds).filter(([, prices]) => prices.length > 0 && prices.every((price) => priceIds.includes(price)));
    return matches.sort(([, a], [, b]) => b.length - a.length)[0]?.[0];
  }
}
