// An organisation's billing: its account (plan, payment status, Stripe customer and subscription), plan
// changes, invoices, and dunning. With a PaymentProcessor (Stripe) plan changes go through it and invoices
// are its own; without one, billing runs in-house: invoices are computed from usage, nothing is charged.
import { LockMode } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Database } from "../platform/database/database.js";
import { decodeOffset, encodeOffset } from "../platform/database/paging.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import type { Caller, UserPrincipal } from "../identity/model/principal.js";
import { anonymousCaller } from "../identity/model/principal.js";
import { Organization } from "../identity/model/organization.entity.js";
import { BillingAccount, type BillingStatus } from "./billing-account.entity.js";
import { monthlyAmount, type BillingPlan, type Plans } from "./plans.js";
import type { InvoiceView, PaymentProcessor } from "./payments.js";
import type { OrganizationSnapshots } from "../identity/orgs/organization-snapshots.js";

const DAY_MS = 86_400_000;

export interface AccountView {
  plan: BillingPlan;
  status: BillingStatus;
  mode: "in_house" | "stripe";
  stripeCustomerId: string;
  stripeSubscriptionId: string;
  pastDueSince: Date | null;
  suspendsAt: Date | null;
}

export interface BillingOptions {
  plans: Plans;
  /** Days a past-due organisation keeps working before it is suspended. */
  graceDays: number;
  /** Stripe; undefined: in-house. */
  payments?: PaymentProcessor;
  /** The Stripe prices of each plan's subscription (STRIPE_PRICE_IDS); a plan without any has none. */
  priceIds?: Record<string, string[]>;
  /** Told of each organisation whose plan or state changed here, so this replica's next check reads it. */
  organizations?: Pick<OrganizationSnapshots, "invalidate">;
}

/** The account row of an organisation, made on first use; locked for the transaction when `lock`. */
export async function accountOf(em: EntityManager, organizationId: string, lock = false): Promise<BillingAccount> {
  await em.execute(`insert into billing_accounts (organization_id) values (?) on conflict (organization_id) do nothing`, [organizationId]);
  return em.findOneOrFail(BillingAccount, { organization: organizationId }, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});
}

export class Billing {
  constructor(
    private readonly database: Database,
    private readonly audit: AuditLog,
    readonly options: BillingOptions,
  ) {}

  get mode(): AccountView["mode"] {
    return this.options.payments ? "stripe" : "in_house";
  }

  async account(organizationId: string): Promise<AccountView> {
    const em = this.database.fork();
    const account = await accountOf(em, organizationId);
    const organization = await em.findOneOrFail(Organization, { id: organizationId });
    return this.view(account, organization);
  }

  /**
   * Moves the organisation to `planName` (owners). With Stripe: the customer is made on the first paid plan,
   * the subscription made, changed or cancelled; the organisation's plan changes once Stripe has answered.
   * The account row stays locked meanwhile, so two changes at once cannot make two subscriptions.
   */
  async changePlan(principal: UserPrincipal, planName: string, caller: Caller): Promise<AccountView> {
    const plan = this.options.plans.named(planName);
    const payments = this.options.payments;
    const em = this.database.fork();
    const { account, organization, previous } = await em.transactional(async (tx) => {
      const account = await accountOf(tx, principal.organizationId, true);
      const organization = await tx.findOneOrFail(Organization, { id: principal.organizationId });
      const previous = organization.plan;
      if (previous === plan.name) return { account, organization, previous };
      if (payments) {
        const priceIds = this.priceIdsOf(plan.name);
        if (priceIds.length > 0) {
          account.stripeCustomerId ??= await payments.createCustomer({ id: organization.id, name: organization.name });
          if (account.stripeSubscriptionId) {
            await payments.changeSubscription(account.stripeSubscriptionId, plan.name, priceIds);
          } else {
            // The key is the account as it stands: a retry after a crash (nothing stored) makes the same subscription.
            const subscription = await payments.subscribe({
              customerId: account.stripeCustomerId,
              organizationId: organization.id,
              plan: plan.name,
              priceIds,
              attemptKey: `${account.id}-${account.updatedAt.getTime()}-${plan.name}`,
            });
            account.stripeSubscriptionId = subscription.id;
            account.meteredSince = subscription.startedAt;
          }
        } else if (account.stripeSubscriptionId) {
          await payments.cancelSubscription(account.stripeSubscriptionId);
          account.stripeSubscriptionId = null;
          account.meteredSince = null;
        }
      }
      organization.plan = plan.name;
      account.planChangedAt = new Date();
      return { account, organization, previous };
    });
    this.options.organizations?.invalidate(organization.id);
    if (previous !== plan.name) {
      await this.audit.record(
        {
          action: "billing.plan_change",
          outcome: "success",
          organizationId: organization.id,
          actorUserId: principal.userId,
          targetType: "organization",
          targetId: organization.id,
          details: { from: previous, to: plan.name },
        },
        caller,
      );
    }
    return this.view(account, organization);
  }

  /** Newest first: Stripe's invoices, or in-house one per calendar month (UTC) since the organisation began. */
  async invoices(organizationId: string, page: { pageSize: number; pageToken: string }, now: Date = new Date()): Promise<{ invoices: InvoiceView[]; nextPageToken: string }> {
    const limit = page.pageSize > 0 ? Math.min(page.pageSize, 100) : 12;
    const em = this.database.fork();
    const account = await accountOf(em, organizationId);
    if (this.options.payments) {
      if (!account.stripeCustomerId) return { invoices: [], nextPageToken: "" };
      if (page.pageToken && !/^in_[A-Za-z0-9_]+$/.test(page.pageToken)) {
        throw new InvalidArgumentError("page_token", "is not a token this list returned; start again with an empty page_token");
      }
      const list = await this.options.payments.listInvoices(account.stripeCustomerId, { limit, after: page.pageToken || undefined });
      return { invoices: list.invoices, nextPageToken: list.hasMore ? (list.invoices.at(-1)?.id ?? "") : "" };
    }
    return this.inHouseInvoices(em, organizationId, limit, decodeOffset(page.pageToken), now);
  }

  /**
   * Dunning: past-due accounts whose grace has run out are suspended, and so is their organisation (unless an
   * operator suspended it already: that suspension stays the operator's). Returns how many were suspended.
   */
  async suspendOverdue(now: Date = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.options.graceDays * DAY_MS);
    const due = await this.database.fork().find(BillingAccount, { status: "past_due", pastDueSince: { $lte: cutoff } }, { fields: ["id"] });
    let suspended = 0;
    for (const { id } of due) {
      const organizationId = await this.database.fork().transactional(async (tx) => {
        const account = await tx.findOneOrFail(BillingAccount, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (account.status !== "past_due" || !account.pastDueSince || account.pastDueSince > cutoff) return null;
        const organization = await tx.findOneOrFail(Organization, { id: account.organization.id });
        account.status = "suspended";
        if (organization.status === "active") {
          organization.status = "suspended";
          organization.suspendedAt = now;
          organization.suspensionReason = `payment overdue since ${account.pastDueSince.toISOString().slice(0, 10)}`;
          account.suspendedByBilling = true;
        }
        return organization.id;
      });
      if (!organizationId) continue;
      this.options.organizations?.invalidate(organizationId);
      suspended++;
      await this.audit.record({ action: "billing.suspend", outcome: "success", organizationId, targetType: "organization", targetId: organizationId, details: { graceDays: String(this.options.graceDays) } }, anonymousCaller);
    }
    return suspended;
  }

  /** The Stripe prices of a plan (none: a plan without a subscription). */
  priceIdsOf(plan: string): string[] {
    return this.options.priceIds?.[plan] ?? [];
  }

  private view(account: BillingAccount, organization: Organization): AccountView {
    const pastDue = account.status === "past_due" && account.pastDueSince;
    return {
      plan: this.options.plans.of(organization.plan),
      status: account.status,
      mode: this.mode,
      stripeCustomerId: account.stripeCustomerId ?? "",
      stripeSubscriptionId: account.stripeSubscriptionId ?? "",
      pastDueSince: account.status === "active" ? null : account.pastDueSince,
      suspendsAt: pastDue ? new Date(account.pastDueSince!.getTime() + this.options.graceDays * DAY_MS) : null,
    };
  }

  /** One invoice per UTC calendar month from the organisation's first to now, on its current plan. */
  private async inHouseInvoices(em: EntityManager, organizationId: string, limit: number, offset: number, now: Date): Promise<{ invoices: InvoiceView[]; nextPageToken: string }> {
    const organization = await em.findOneOrFail(Organization, { id: organizationId });
    const plan = this.options.plans.of(organization.plan);
    const rows = await em.execute<Array<{ month: Date; seconds: string | null; total: string }>>(
      `with months as (
         select m as month, count(*) over () as total
           from generate_series(date_trunc('month', ?::timestamptz at time zone 'UTC'), date_trunc('month', ?::timestamptz at time zone 'UTC'), '-1 month'::interval) m
       ), page as (select * from months order by month desc limit ? offset ?)
       select (page.month at time zone 'UTC') as month, page.total,
              (select sum(u.seconds) from usage_records u
                where u.organization_id = ? and u.recorded_at >= page.month at time zone 'UTC' and u.recorded_at < (page.month + '1 month'::interval) at time zone 'UTC') as seconds
         from page order by page.month desc`,
      [now, organization.createdAt, limit, offset, organizationId],
    );
    const currentMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const invoices = rows.map((row): InvoiceView => {
      const start = new Date(row.month);
      const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
      const seconds = Math.ceil(Number(row.seconds ?? 0));
      return {
        id: `${organizationId}:${start.toISOString().slice(0, 7)}`,
        number: start.getTime() === currentMonth ? "" : `${organization.slug.toUpperCase()}-${start.toISOString().slice(0, 7)}`,
        status: start.getTime() === currentMonth ? "draft" : "open",
        currency: this.options.plans.currency,
        amountDueMinor: monthlyAmount(plan, seconds),
        amountPaidMinor: 0,
        periodStart: start,
        periodEnd: end,
        billedSeconds: seconds,
        hostedUrl: "",
        createdAt: start.getTime() === currentMonth ? now : end,
      };
    });
    const total = Number(rows[0]?.total ?? 0);
    return { invoices, nextPageToken: offset + limit < total ? encodeOffset(offset + limit) : "" };
  }
}
