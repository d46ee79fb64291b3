// PaymentProcessor over Stripe's official library. Every call that creates something carries an
// idempotency key, so a retry (by the library, or by us after a crash) creates it once.
import Stripe from "stripe";
import type { StripeConfig } from "../platform/config/config.js";
import { WebhookSignatureError, type InvoiceState, type InvoiceView, type PaymentEvent, type PaymentProcessor, type SubscriptionView, type UsageEvent } from "./payments.js";

const INVOICE_STATES: readonly InvoiceState[] = ["draft", "open", "paid", "void", "uncollectible"];
/** How old a webhook's signature timestamp may be (Stripe's default). */
const SIGNATURE_TOLERANCE_SECONDS = 300;

const idOf = (value: string | { id: string } | null | undefined): string | undefined => (typeof value === "string" ? value : (value?.id ?? undefined));
const dateOf = (seconds: number) => new Date(seconds * 1000);

function subscriptionView(s: Stripe.Subscription): SubscriptionView {
  return {
    id: s.id,
    customerId: idOf(s.customer) ?? "",
    status: s.status,
    priceIds: s.items.data.map((item) => item.price.id),
    metadata: { ...s.metadata },
    startedAt: dateOf(s.start_date),
  };
}

function invoiceView(i: Stripe.Invoice): InvoiceView {
  const status = INVOICE_STATES.find((s) => s === i.status) ?? "open";
  return {
    id: i.id ?? "",
    number: i.number ?? "",
    status,
    currency: i.currency,
    amountDueMinor: i.amount_due,
    amountPaidMinor: i.amount_paid,
    periodStart: dateOf(i.period_start),
    periodEnd: dateOf(i.period_end),
    hostedUrl: i.hosted_invoice_url ?? "",
    createdAt: dateOf(i.created),
  };
}

export class StripePayments implements PaymentProcessor {
  private readonly stripe: Stripe;

  constructor(private readonly config: StripeConfig) {
    this.stripe = new Stripe(config.secretKey, {
      ...(config.api ?? {}),
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
      appInfo: { name: "arabicstt" },
    });
  }

  async createCustomer(organization: { id: string; name: string }): Promise<string> {
    const customer = await this.stripe.customers.create(
      { name: organization.name, metadata: { organization_id: organization.id } },
      { idempotencyKey: `customer-${organization.id}` },
    );
    return customer.id;
  }

  async subscribe(input: { customerId: string; organizationId: string; plan: string; priceIds: string[]; attemptKey: string }): Promise<SubscriptionView> {
    const subscription = await this.stripe.subscriptions.create(
      {
        customer: input.customerId,
        items: input.priceIds.map((price) => ({ price })),
        metadata: { organization_id: input.organizationId, plan: input.plan },
        payment_behavior: "default_incomplete",
      },
      { idempotencyKey: `subscription-${input.attemptKey}` },
    );
    return subscriptionView(subscription);
  }

  async changeSubscription(subscriptionId: string, plan: string, priceIds: string[]): Promise<SubscriptionView> {
    const current = await this.stripe.subscriptions.retrieve(subscriptionId);
    const kept = new Set(priceIds);
    const items = [
      ...current.items.data.filter((item) => !kept.has(item.price.id)).map((item) => ({ id: item.id, deleted: true })),
      ...priceIds.filter((price) => !current.items.data.some((item) => item.price.id === price)).map((price) => ({ price })),
    ];
    const updated = await this.stripe.subscriptions.update(subscriptionId, { items, metadata: { plan }, proration_behavior: "create_prorations" });
    return subscriptionView(updated);
  }

  async cancelSubscription(subscriptionId: string): Promise<void> {
    await this.stripe.subscriptions.cancel(subscriptionId, { invoice_now: true, prorate: true });
  }

  async listInvoices(customerId: string, page: { limit: number; after?: string }): Promise<{ invoices: InvoiceView[]; hasMore: boolean }> {
    const list = await this.stripe.invoices.list({ customer: customerId, limit: page.limit, ...(page.after ? { starting_after: page.after } : {}) });
    return { invoices: list.data.map(invoiceView), hasMore: list.has_more };
  }

  async reportUsage(event: UsageEvent): Promise<void> {
    await this.stripe.billing.meterEvents.create(
      {
        event_name: this.config.meterEventName,
        identifier: event.identifier,
        timestamp: Math.floor(event.at.getTime() / 1000),
        payload: { stripe_customer_id: event.customerId, value: String(event.seconds) },
      },
      { idempotencyKey: `meter-${event.identifier}` },
    );
  }

  verifyEvent(payload: Buffer, signature: string | undefined): PaymentEvent {
    if (!this.config.webhookSecret) throw new WebhookSignatureError("STRIPE_WEBHOOK_SECRET is not set");
    if (!signature) throw new WebhookSignatureError("no Stripe-Signature header");
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(payload, signature, this.config.webhookSecret, SIGNATURE_TOLERANCE_SECONDS);
    } catch (err) {
      throw new WebhookSignatureError(err instanceof Error ? err.message : "the signature does not verify");
    }
    const object = event.data.object as unknown as { object?: string; id?: string; customer?: string | { id: string } | null };
    const view: PaymentEvent = { id: event.id, type: event.type, createdAt: dateOf(event.created), customerId: idOf(object.customer) };
    if (object.object === "subscription") view.subscription = subscriptionView(event.data.object as Stripe.Subscription);
    if (object.object === "invoice") view.invoiceId = object.id;
    return view;
  }
}
