// Billing as the composition root builds it: in-house, or through Stripe when STRIPE_SECRET_KEY is set;
// the schedule that reports usage to Stripe and suspends overdue organisations; the webhook receiver for
// POST /webhooks/stripe (gateway/http/stripe-webhook.ts); the BillingService handler.
import type { BillingConfig } from "../platform/config/config.js";
import type { Database } from "../platform/database/database.js";
import type { Logger } from "../platform/logger.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import { Billing } from "./billing.js";
import { billingHandler } from "./handler.js";
import { Plans } from "./plans.js";
import { StripeEvents } from "./stripe-events.js";
import { StripePayments } from "./stripe-payments.js";
import { UsageReporter } from "./usage-reporter.js";
import type { OrganizationSnapshots } from "../identity/orgs/organization-snapshots.js";

export { WebhookSignatureError } from "./payments.js";
export type { EventOutcome } from "./stripe-events.js";

export interface BillingCapability {
  billing: Billing;
  /** Stripe's webhooks; undefined unless STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set. */
  stripeEvents?: StripeEvents;
  /** Usage to Stripe's meter; undefined in-house. */
  usageReporter?: UsageReporter;
  /** One scheduled run: usage reported, overdue organisations suspended. */
  run(now?: Date): Promise<void>;
  handler: ReturnType<typeof billingHandler>;
  close(): Promise<void>;
}

export function createBilling(config: BillingConfig, adapters: { database: Database; audit: AuditLog; logger: Logger; organizations?: Pick<OrganizationSnapshots, "invalidate"> }): BillingCapability {
  const { database, audit } = adapters;
  const logger = adapters.logger.child({ component: "billing" });
  const plans = new Plans(config.plans, config.defaultPlan, config.currency);
  const payments = config.stripe ? new StripePayments(config.stripe) : undefined;
  const billing = new Billing(database, audit, { plans, graceDays: config.graceDays, payments, priceIds: config.stripe?.priceIds, organizations: adapters.organizations });
  const stripeEvents = payments && config.stripe?.webhookSecret ? new StripeEvents(database, payments, plans, config.stripe.priceIds, audit, logger, adapters.organizations) : undefined;
  const usageReporter = payments ? new UsageReporter(database, payments, logger) : undefined;

  let running: Promise<void> | undefined;
  const run = (now?: Date) =>
    (running ??= (async () => {
      try {
        if (usageReporter) await usageReporter.run(now);
        await billing.suspendOverdue(now);
      } finally {
        running = undefined;
      }
    })());
  const timer =
    config.intervalSeconds > 0
      ? setInterval(() => {
          run().catch((err: unknown) => logger.error({ err }, "billing run failed; tried again on the next"));
        }, config.intervalSeconds * 1000)
      : undefined;
  timer?.unref();

  return {
    billing,
    stripeEvents,
    usageReporter,
    run,
    handler: billingHandler(billing),
    close: async () => {
      if (timer) clearInterval(timer);
      // swallowed: whoever started the run (the timer, or a caller of run) has its failure and logs it.
      await running?.catch(() => undefined);
    },
  };
}
