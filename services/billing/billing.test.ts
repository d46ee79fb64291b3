// Billing through the public API on the whole platform: in-house invoices computed from usage; with Stripe
// (a local server speaking its endpoints), customers and subscriptions made by ChangePlan, Stripe's signed
// webhooks moving the plan and the payment status (verified, once per event, in Stripe's order), dunning
// that suspends and restores, Stripe's invoices listed, and usage reported to the meter exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Stripe from "stripe";
import { Code, ConnectError } from "@connectrpc/connect";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { BillingMode, BillingService, BillingStatus, InvoiceStatus } from "../../proto/gen/arabicstt/v1/billing_pb.js";
import { OrganizationService, OrganizationState } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { startTestPlatform, type TestPlatform } from "../../gateway/testing/platform.js";
import { joinAs, registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { seedJob } from "../app/testing.js";
import { FakeStripe } from "./testing/fake-stripe.js";

const PLANS = "free:10:0:0,starter:100:2900:3,pro:1000:19900:2";
const WEBHOOK_SECRET = "whsec_billingtestsecret";
const DAY_MS = 86_400_000;

const codeOf = (p: Promise<unknown>) => p.then(() => "ok" as const, (err: unknown) => ConnectError.from(err).code);
const monthStart = (now: Date, back: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));

async function recordUsage(t: TestPlatform, organizationId: string, seconds: number, at: Date): Promise<void> {
  const { jobId } = await seedJob(t.testDb.db, organizationId);
  await t.platform.transcripts.usage.record(organizationId, "batch", seconds, jobId, at);
}

describe("in-house billing (no STRIPE_SECRET_KEY)", () => {
  let t: TestPlatform;
  let owner: TestAccount;

  beforeAll(async () => {
    t = await startTestPlatform({ BILLING_PLANS: PLANS, BILLING_INTERVAL_SECONDS: "0" });
    owner = await registerOwner(t);
  });
  afterAll(() => t?.stop());

  it("lists one invoice per month computed from usage, newest first, a page at a time", async () => {
    const now = new Date();
    // The organisation began two months ago; last month it used 110 minutes.
    await t.testDb.db.fork().getConnection().execute(`update organizations set created_at = ? where id = ?`, [new Date(monthStart(now, 2).getTime() + DAY_MS), owner.organizationId]);
    await recordUsage(t, owner.organizationId, 110 * 60, new Date(monthStart(now, 1).getTime() + 3 * DAY_MS));
    const billing = t.client(BillingService, { credential: owner.accessToken });
    // The quota checks' snapshot of the organisation, read before the change, is dropped by it on this replica.
    const snapshots = t.platform.identity.organizationSnapshots;
    expect((await snapshots.get(owner.organizationId))?.plan).toBe("free");
    const changed = await billing.changePlan({ plan: "starter" });
    expect((await snapshots.get(owner.organizationId))?.plan).toBe("starter");
    expect(changed.account).toMatchObject({ mode: BillingMode.IN_HOUSE, status: BillingStatus.ACTIVE, stripeCustomerId: "", plan: { name: "starter", currency: "usd" } });

    const first = await billing.listInvoices({ pageSize: 2 });
    expect(first.invoices.map((i) => [i.status, Number(i.amountDueMinor), durationMs(i.billedAudio!) / 1000, Number(i.periodStart!.seconds) * 1000])).toEqual([
      [InvoiceStatus.DRAFT, 2900, 0, monthStart(now, 0).getTime()],
      // 2,900 the fee, and 10 minutes over the 100 included at 3 each.
      [InvoiceStatus.OPEN, 2930, 110 * 60, monthStart(now, 1).getTime()],
    ]);
    expect(first.invoices[1]!.amountPaidMinor).toBe(0n);
    expect(first.nextPageToken).not.toBe("");
    const second = await billing.listInvoices({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.invoices.map((i) => [Number(i.amountDueMinor), Number(i.periodStart!.seconds) * 1000])).toEqual([[2900, monthStart(now, 2).getTime()]]);
    expect(second.nextPageToken).toBe("");
  });

  it("serves no Stripe webhook without Stripe", async () => {
    const res = await fetch(`http://127.0.0.1:${t.platform.gateway.httpPort}/webhooks/stripe`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    expect((await t.client(BillingService, { credential: owner.accessToken }).getBillingAccount({})).account?.mode).toBe(BillingMode.IN_HOUSE);
  });

  it("refuses an unknown plan, a plan change by anyone but the owner, and billing to members", async () => {
    const billing = t.client(BillingService, { credential: owner.accessToken });
    await expect(billing.changePlan({ plan: "gold" })).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("free, starter, pro") });
    const admin = await joinAs(t, owner.organizationId, "admin");
    expect(await codeOf(t.client(BillingService, { credential: admin.accessToken }).changePlan({ plan: "pro" }))).toBe(Code.PermissionDenied);
    expect((await t.client(BillingService, { credential: admin.accessToken }).getBillingAccount({})).account?.plan?.name).toBe("starter");
    const member = await joinAs(t, owner.organizationId, "member");
    expect(await codeOf(t.client(BillingService, { credential: member.accessToken }).listInvoices({}))).toBe(Code.PermissionDenied);
    expect((await billing.listPlans({})).plans.map((p) => [p.name, durationMs(p.includedAudio!) / 60_000, Number(p.overagePerMinuteMinor)])).toEqual([
      ["free", 10, 0],
      ["starter", 100, 3],
      ["pro", 1000, 2],
    ]);
  });
});

describe("billing with Stripe", () => {
  let t: TestPlatform;
  let stripe: FakeStripe;
  let eventCounter = 0;

  beforeAll(async () => {
    stripe = await FakeStripe.start();
    t = await startTestPlatform({
      BILLING_PLANS: PLANS,
      BILLING_INTERVAL_SECONDS: "0",
      BILLING_GRACE_DAYS: "7",
      STRIPE_SECRET_KEY: "sk_test_billing",
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_PRICE_IDS: "starter:price_starter+price_audio,pro:price_pro+price_audio",
    });
  });
  afterAll(async () => {
    await t?.stop();
    await stripe?.close();
  });

  /** Posts `event` to /webhooks/stripe signed with `secret` by Stripe's own helper. */
  async function deliver(event: Record<string, unknown>, secret = WEBHOOK_SECRET): Promise<{ status: number; body: Record<string, unknown> }> {
    const payload = JSON.stringify(event);
    const res = await fetch(`http://127.0.0.1:${t.platform.gateway.httpPort}/webhooks/stripe`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Stripe-Signature": Stripe.webhooks.generateTestHeaderString({ payload, secret }) },
      body: payload,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  function event(type: string, object: Record<string, unknown>, created: Date, id = `evt_test${++eventCounter}`): Record<string, unknown> {
    return { id, object: "event", api_version: "2026-02-25.clover", type, created: Math.floor(created.getTime() / 1000), livemode: false, pending_webhooks: 1, request: { id: null }, data: { object } };
  }

  const invoice = (customer: string) => ({ id: `in_test${++eventCounter}`, object: "invoice", customer, status: "open", amount_due: 2900 });

  async function subscribed(plan = "starter"): Promise<{ owner: TestAccount; customerId: string; subscriptionId: string }> {
    const owner = await registerOwner(t);
    const res = await t.client(BillingService, { credential: owner.accessToken }).changePlan({ plan });
    return { owner, customerId: res.account!.stripeCustomerId, subscriptionId: res.account!.stripeSubscriptionId };
  }

  const accountOf = async (owner: TestAccount) => (await t.client(BillingService, { credential: owner.accessToken }).getBillingAccount({})).account!;

  it("ChangePlan makes the Stripe customer and subscription, changes its prices, and cancels it on a plan without prices", async () => {
    const owner = await registerOwner(t);
    const billing = t.client(BillingService, { credential: owner.accessToken });
    const started = (await billing.changePlan({ plan: "starter" })).account!;
    expect(started).toMatchObject({ mode: BillingMode.STRIPE, plan: { name: "starter" }, stripeCustomerId: expect.stringMatching(/^cus_/), stripeSubscriptionId: expect.stringMatching(/^sub_/) });
    expect(stripe.customers.get(started.stripeCustomerId)?.metadata).toEqual({ organization_id: owner.organizationId });
    const subscription = stripe.subscriptions.get(started.stripeSubscriptionId)!;
    expect(subscription.items.data.map((i) => i.price.id).sort()).toEqual(["price_audio", "price_starter"]);

    const upgraded = (await billing.changePlan({ plan: "pro" })).account!;
    expect(upgraded).toMatchObject({ plan: { name: "pro" }, stripeCustomerId: started.stripeCustomerId, stripeSubscriptionId: started.stripeSubscriptionId });
    expect(subscription.items.data.map((i) => i.price.id).sort()).toEqual(["price_audio", "price_pro"]);

    const cancelled = (await billing.changePlan({ plan: "free" })).account!;
    expect(cancelled).toMatchObject({ plan: { name: "free" }, stripeCustomerId: started.stripeCustomerId, stripeSubscriptionId: "" });
    expect(subscription.status).toBe("canceled");
    expect([...stripe.customers.values()].filter((c) => (c.metadata as Record<string, string>).organization_id === owner.organizationId)).toHaveLength(1);
  });

  it("changes the plan on a signed subscription event, and back to the default plan when the subscription ends", async () => {
    const { owner, customerId, subscriptionId } = await subscribed();
    const subscription = (prices: string[], status = "active") => ({
      id: subscriptionId,
      object: "subscription",
      customer: customerId,
      status,
      start_date: Math.floor(Date.now() / 1000),
      metadata: { organization_id: owner.organizationId },
      items: { object: "list", data: prices.map((price, i) => ({ id: `si_${i}`, object: "subscription_item", price: { id: price, object: "price" } })) },
    });
    const updated = await deliver(event("customer.subscription.updated", subscription(["price_pro", "price_audio"]), new Date(Date.now() + 5_000)));
    expect(updated).toEqual({ status: 200, body: { received: true, outcome: "applied" } });
    expect((await accountOf(owner)).plan?.name).toBe("pro");

    const ended = await deliver(event("customer.subscription.deleted", subscription(["price_pro", "price_audio"], "canceled"), new Date(Date.now() + 10_000)));
    expect(ended.body.outcome).toBe("applied");
    expect(await accountOf(owner)).toMatchObject({ plan: { name: "free" }, stripeSubscriptionId: "" });
  });

  it("refuses a webhook whose signature is wrong or missing with 400, and changes nothing", async () => {
    const { owner, customerId } = await subscribed();
    const failed = event("invoice.payment_failed", invoice(customerId), new Date(Date.now() + 5_000));
    expect((await deliver(failed, "whsec_someoneelse")).status).toBe(400);
    const unsigned = await fetch(`http://127.0.0.1:${t.platform.gateway.httpPort}/webhooks/stripe`, { method: "POST", body: JSON.stringify(failed) });
    expect(unsigned.status).toBe(400);
    expect((await accountOf(owner)).status).toBe(BillingStatus.ACTIVE);
    // The same event, signed with the right secret, is then applied: nothing about it was recorded.
    expect((await deliver(failed)).body.outcome).toBe("applied");
    expect((await accountOf(owner)).status).toBe(BillingStatus.PAST_DUE);
  });

  it("applies a replayed event once", async () => {
    const { owner, customerId } = await subscribed();
    const failed = event("invoice.payment_failed", invoice(customerId), new Date(Date.now() + 5_000));
    expect((await deliver(failed)).body.outcome).toBe("applied");
    expect((await deliver(failed)).body).toEqual({ received: true, outcome: "duplicate" });
    const rows = await t.testDb.db.fork().getConnection().execute<Array<{ n: string }>>(`select count(*) as n from billing_stripe_events where event_id = ?`, [failed.id]);
    expect(Number(rows[0]!.n)).toBe(1);
    expect((await accountOf(owner)).status).toBe(BillingStatus.PAST_DUE);
  });

  it("applies events in the order Stripe made them, not the order they arrive", async () => {
    const { owner, customerId } = await subscribed();
    const at = Date.now() + 5_000;
    const failed = event("invoice.payment_failed", invoice(customerId), new Date(at));
    const paid = event("invoice.paid", invoice(customerId), new Date(at + 60_000));
    expect((await deliver(paid)).body.outcome).toBe("applied");
    expect((await deliver(failed)).body.outcome).toBe("ignored");
    expect((await accountOf(owner)).status).toBe(BillingStatus.ACTIVE);
  });

  it("dunning: a failed payment makes the account past due, the grace ends in suspension, a paid invoice lifts it", async () => {
    const { owner, customerId } = await subscribed();
    const failedAt = new Date(Date.now() + 5_000);
    await deliver(event("invoice.payment_failed", invoice(customerId), failedAt));
    const pastDue = await accountOf(owner);
    expect(pastDue.status).toBe(BillingStatus.PAST_DUE);
    expect(Number(pastDue.suspendsAt!.seconds)).toBe(Math.floor(failedAt.getTime() / 1000) + 7 * 86_400);

    await t.platform.billing.run(new Date(failedAt.getTime() + 6 * DAY_MS));
    expect((await accountOf(owner)).status).toBe(BillingStatus.PAST_DUE);
    const snapshots = t.platform.identity.organizationSnapshots;
    expect((await snapshots.get(owner.organizationId))?.status).toBe("active");
    await t.platform.billing.run(new Date(failedAt.getTime() + 8 * DAY_MS));
    expect((await accountOf(owner)).status).toBe(BillingStatus.SUSPENDED);
    // API keys and quota checks on this replica see the suspension (and its lifting) at once.
    expect((await snapshots.get(owner.organizationId))?.status).toBe("suspended");
    const orgs = t.client(OrganizationService, { credential: owner.accessToken });
    expect((await orgs.getOrganization({})).organization).toMatchObject({ state: OrganizationState.SUSPENDED, suspensionReason: expect.stringContaining("payment overdue") });
    expect(await codeOf(t.client(BillingService, { credential: owner.accessToken }).changePlan({ plan: "pro" }))).toBe(Code.PermissionDenied);

    expect((await deliver(event("invoice.paid", invoice(customerId), new Date(failedAt.getTime() + 60_000)))).body.outcome).toBe("applied");
    const restored = await accountOf(owner);
    expect(restored.status).toBe(BillingStatus.ACTIVE);
    expect(restored.pastDueSince).toBeUndefined();
    expect((await orgs.getOrganization({})).organization?.state).toBe(OrganizationState.ACTIVE);
    expect((await snapshots.get(owner.organizationId))?.status).toBe("active");
    const audited = await t.testDb.db.fork().getConnection().execute<Array<{ action: string }>>(
      `select action from audit_events where organization_id = ? and action like 'billing.%' order by created_at`,
      [owner.organizationId],
    );
    expect(audited.map((a) => a.action)).toEqual(["billing.plan_change", "billing.suspend", "billing.restore"]);
    expect((await t.client(BillingService, { credential: owner.accessToken }).changePlan({ plan: "pro" })).account?.plan?.name).toBe("pro");
  });

  it("lists Stripe's invoices, newest first, a page at a time", async () => {
    const { owner, customerId } = await subscribed();
    const day = 86_400;
    const t0 = Math.floor(Date.now() / 1000) - 40 * day;
    const older = stripe.addInvoice(customerId, { status: "paid", amount_due: 2900, amount_paid: 2900, created: t0, period_start: t0 - 30 * day, period_end: t0 });
    const newer = stripe.addInvoice(customerId, { status: "open", amount_due: 3130, amount_paid: 0, created: t0 + 30 * day, period_start: t0, period_end: t0 + 30 * day });
    const billing = t.client(BillingService, { credential: owner.accessToken });
    const first = await billing.listInvoices({ pageSize: 1 });
    expect(first.invoices.map((i) => [i.invoiceId, i.status, Number(i.amountDueMinor), i.hostedInvoiceUrl])).toEqual([[newer, InvoiceStatus.OPEN, 3130, `https://invoice.stripe.test/${newer}`]]);
    const second = await billing.listInvoices({ pageSize: 1, pageToken: first.nextPageToken });
    expect(second.invoices.map((i) => [i.invoiceId, i.status, Number(i.amountPaidMinor)])).toEqual([[older, InvoiceStatus.PAID, 2900]]);
    expect(second.nextPageToken).toBe("");
  });

  it("reports usage to the meter exactly once, however often and however many reporters run", async () => {
    const { owner, customerId } = await subscribed();
    const reporter = t.platform.billing.usageReporter!;
    const mine = () => stripe.meterEvents.filter((e) => e.payload.stripe_customer_id === customerId);
    const reported = () => mine().reduce((sum, e) => sum + Number(e.payload.value), 0);
    await recordUsage(t, owner.organizationId, 61.2, new Date());
    await recordUsage(t, owner.organizationId, 30, new Date());

    await Promise.all([reporter.run(), reporter.run()]);
    await reporter.run();
    expect(mine()).toHaveLength(1);
    expect(reported()).toBe(62 + 30);
    expect(mine()[0]!.event_name).toBe("audio_seconds");

    // New usage is the next event; what was reported stays reported.
    await recordUsage(t, owner.organizationId, 15, new Date());
    await reporter.run();
    expect(reported()).toBe(62 + 30 + 15);

    // A refused send is retried on the next run; a send whose "sent" mark was lost (a crash) is sent again
    // with the same identifier and idempotency key, and Stripe keeps one.
    await recordUsage(t, owner.organizationId, 5, new Date());
    stripe.failNext("/v1/billing/meter_events");
    expect((await reporter.run()).failed).toBeGreaterThanOrEqual(1);
    await reporter.run();
    expect(reported()).toBe(62 + 30 + 15 + 5);
    await t.testDb.db.fork().getConnection().execute(`update billing_usage_reports set sent_at = null where organization_id = ?`, [owner.organizationId]);
    const resent = await reporter.run();
    expect(resent.sent).toBe(3);
    expect(mine()).toHaveLength(3);
    expect(reported()).toBe(62 + 30 + 15 + 5);
  });
});
