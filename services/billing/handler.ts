// BillingService over the wire.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  BillingAccountSchema,
  BillingMode,
  BillingStatus,
  InvoiceSchema,
  InvoiceStatus,
  PlanSchema,
  type BillingAccount as AccountMessage,
  type BillingService,
  type Invoice as InvoiceMessage,
  type Plan as PlanMessage,
} from "../../proto/gen/arabicstt/v1/billing_pb.js";
import { callerOf, principalOf, userOf } from "../identity/model/context.js";
import type { AccountView, Billing } from "./billing.js";
import type { InvoiceState, InvoiceView } from "./payments.js";
import type { BillingPlan } from "./plans.js";

const statuses: Record<AccountView["status"], BillingStatus> = {
  active: BillingStatus.ACTIVE,
  past_due: BillingStatus.PAST_DUE,
  suspended: BillingStatus.SUSPENDED,
};

const invoiceStatuses: Record<InvoiceState, InvoiceStatus> = {
  draft: InvoiceStatus.DRAFT,
  open: InvoiceStatus.OPEN,
  paid: InvoiceStatus.PAID,
  void: InvoiceStatus.VOID,
  uncollectible: InvoiceStatus.UNCOLLECTIBLE,
};

function toPlan(plan: BillingPlan, currency: string): PlanMessage {
  return create(PlanSchema, {
    name: plan.name,
    includedAudio: durationFromMs(plan.includedMinutes * 60_000),
    monthlyFeeMinor: BigInt(plan.monthlyFeeMinor),
    overagePerMinuteMinor: BigInt(plan.overagePerMinuteMinor),
    currency,
  });
}

function toAccount(account: AccountView, currency: string): AccountMessage {
  return create(BillingAccountSchema, {
    plan: toPlan(account.plan, currency),
    status: statuses[account.status],
    mode: account.mode === "stripe" ? BillingMode.STRIPE : BillingMode.IN_HOUSE,
    stripeCustomerId: account.stripeCustomerId,
    stripeSubscriptionId: account.stripeSubscriptionId,
    pastDueSince: account.pastDueSince ? timestampFromDate(account.pastDueSince) : undefined,
    suspendsAt: account.suspendsAt ? timestampFromDate(account.suspendsAt) : undefined,
  });
}

function toInvoice(invoice: InvoiceView): InvoiceMessage {
  return create(InvoiceSchema, {
    invoiceId: invoice.id,
    number: invoice.number,
    status: invoiceStatuses[invoice.status],
    currency: invoice.currency,
    amountDueMinor: BigInt(invoice.amountDueMinor),
    amountPaidMinor: BigInt(invoice.amountPaidMinor),
    periodStart: timestampFromDate(invoice.periodStart),
    periodEnd: timestampFromDate(invoice.periodEnd),
    billedAudio: invoice.billedSeconds === undefined ? undefined : durationFromMs(invoice.billedSeconds * 1000),
    hostedInvoiceUrl: invoice.hostedUrl,
    createdAt: timestampFromDate(invoice.createdAt),
  });
}

export function billingHandler(billing: Billing): Partial<ServiceImpl<typeof BillingService>> {
  const { plans } = billing.options;
  return {
    async getBillingAccount(_req, ctx) {
      return { account: toAccount(await billing.account(principalOf(ctx.values).organizationId), plans.currency) };
    },
    listPlans() {
      return { plans: plans.all.map((plan) => toPlan(plan, plans.currency)) };
    },
    async changePlan(req, ctx) {
      const account = await billing.changePlan(userOf(ctx.values), req.plan, callerOf(ctx.values));
      return { account: toAccount(account, plans.currency) };
    },
    async listInvoices(req, ctx) {
      const page = await billing.invoices(principalOf(ctx.values).organizationId, { pageSize: req.pageSize, pageToken: req.pageToken });
      return { invoices: page.invoices.map(toInvoice), nextPageToken: page.nextPageToken };
    },
  };
}
