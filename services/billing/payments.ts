// What billing needs of a payment processor, owned here so the domain never sees Stripe's SDK: customers,
// subscriptions, invoices, metered usage and verified webhook events. stripe-payments.ts is the one
// implementation; in-house billing has none.

export type InvoiceState = "draft" | "open" | "paid" | "void" | "uncollectible";

export interface InvoiceView {
  id: string;
  number: string;
  status: InvoiceState;
  currency: string;
  amountDueMinor: number;
  amountPaidMinor: number;
  periodStart: Date;
  periodEnd: Date;
  /** In-house only: the audio the amount was computed from. */
  billedSeconds?: number;
  hostedUrl: string;
  createdAt: Date;
}

export interface SubscriptionView {
  id: string;
  customerId: string;
  /** Stripe's status: active, past_due, canceled, incomplete_expired, … */
  status: string;
  priceIds: string[];
  metadata: Record<string, string>;
  startedAt: Date;
}

/** A webhook event, verified, with what billing reads of it. */
export interface PaymentEvent {
  id: string;
  type: string;
  createdAt: Date;
  customerId?: string;
  /** Subscription events: the subscription as the event shows it. */
  subscription?: SubscriptionView;
  /** Invoice events: the invoice's id. */
  invoiceId?: string;
}

/** The signature of a webhook is missing, malformed, wrong or too old. */
export class WebhookSignatureError extends Error {
  override readonly name = "WebhookSignatureError";
}

export interface UsageEvent {
  /** Unique per report, the same on every resend: the processor deduplicates on it. */
  identifier: string;
  customerId: string;
  seconds: number;
  at: Date;
}

export interface PaymentProcessor {
  /** The organisation's customer; asking twice for one organisation gives the same customer. */
  createCustomer(organization: { id: string; name: string }): Promise<string>;
  /** A subscription to `priceIds`; `attemptKey` makes a retried call (same key) create it once. */
  subscribe(input: { customerId: string; organizationId: string; plan: string; priceIds: string[]; attemptKey: string }): Promise<SubscriptionView>;
  /** Replaces the subscription's prices with `priceIds`. */
  changeSubscription(subscriptionId: string, plan: string, priceIds: string[]): Promise<SubscriptionView>;
  cancelSubscription(subscriptionId: string): Promise<void>;
  /** Newest first; `after` is the last id of the previous page. */
  listInvoices(customerId: string, page: { limit: number; after?: string }): Promise<{ invoices: InvoiceView[]; hasMore: boolean }>;
  reportUsage(event: UsageEvent): Promise<void>;
  /** The event in `payload`, if `signature` is the processor's over it; WebhookSignatureError otherwise. */
  verifyEvent(payload: Buffer, signature: string | undefined): PaymentEvent;
}
