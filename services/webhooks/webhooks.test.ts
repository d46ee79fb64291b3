// Webhooks end to end: endpoints registered over the API, events published as the job runner publishes
// them, delivered by the dispatcher to a real HTTPS receiver that checks every signature; retries,
// the delivery log, redelivery, secret rotation, restarts and the SSRF guard.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Code } from "@connectrpc/connect";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { toJson } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  DeliveryState,
  ListWebhooksResponseSchema,
  WebhookEventType,
  WebhookService,
  type WebhookDelivery,
} from "../../proto/gen/arabicstt/v1/webhook_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { registerOwner, joinAs, type TestAccount } from "../../gateway/testing/accounts.js";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { anonymousCaller } from "../identity/model/principal.js";
import { startTestReceiver, type TestReceiver } from "./testing.js";
import { verifyWebhookSignature } from "./signature.js";
import { Webhooks } from "./webhooks.js";
import { SecretBox, resolveSecretBoxKey } from "./secret-box.js";
import { TargetGuard } from "./target-guard.js";
import { DeliveryDispatcher } from "./dispatcher.js";
import { HttpWebhookSender } from "./sender.js";

const MAX_ATTEMPTS = 3;

let receiver: TestReceiver;
let h: IdentityGateway;
let owner: TestAccount;

beforeAll(async () => {
  receiver = await startTestReceiver();
  h = await startIdentityGateway(
    // Loopback allowed: the receiver lives there. Retries 20 ms apart so the story takes no time.
    { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS), WEBHOOK_RETRY_BASE_MS: "20", WEBHOOK_TIMEOUT_MS: "2000" },
    { webhookCa: receiver.ca, webhookPollIntervalMs: 50 },
  );
});
// An organisation per test, so one test's events never reach another's endpoints.
beforeEach(async () => {
  owner = await registerOwner(h, "مركز اتصال الرياض");
});
afterAll(async () => {
  await h?.stop();
  await receiver?.close();
});

const client = () => h.client(WebhookService, { credential: owner.accessToken });

async function createHook(path: string, eventTypes = [WebhookEventType.JOB_SUCCEEDED, WebhookEventType.JOB_FAILED]) {
  return client().createWebhook({ url: `${receiver.origin}${path}`, eventTypes, description: path });
}

function publishJob(type: "job.succeeded" | "job.failed", jobId: string) {
  return h.webhooks.webhooks.publish({ organizationId: owner.organizationId, type, data: { jobId, state: type === "job.succeeded" ? "JOB_STATE_SUCCEEDED" : "JOB_STATE_FAILED" } });
}

/** The webhook's deliveries once `done` holds for them (the dispatcher works in the background). */
async function deliveriesWhen(webhookId: string, done: (d: WebhookDelivery[]) => boolean): Promise<WebhookDelivery[]> {
  for (;;) {
    const { deliveries } = await client().listDeliveries({ webhookId });
    if (done(deliveries)) return deliveries;
    await new Promise((r) => setTimeout(r, 25));
  }
}
const settled = (d: WebhookDelivery[]) => d.length > 0 && d.every((x) => x.state === DeliveryState.SUCCEEDED || x.state === DeliveryState.FAILED);

describe("delivery", () => {
  it("POSTs the event, signed, to every endpoint subscribed to its type, and logs the attempt", async () => {
    const { webhook, secret } = await createHook("/signed");
    const other = await createHook("/exports-only", [WebhookEventType.EXPORT_SUCCEEDED]);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(webhook!.secretPrefix).toBe(secret.slice(0, 10));

    const { eventId } = await publishJob("job.succeeded", "job-1");
    const [request] = await receiver.waitFor("/signed", 1);
    expect(verifyWebhookSignature(secret, request!.headers, request!.body)).toEqual({ ok: true });
    expect(verifyWebhookSignature(secret, request!.headers, request!.body.replace("job-1", "job-2"))).toEqual({ ok: false, reason: "no matching signature" });
    expect(request!.headers["webhook-id"]).toBe(eventId);
    expect(request!.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(request!.body) as Record<string, unknown>;
    expect(body).toMatchObject({ id: eventId, type: "job.succeeded", organization_id: owner.organizationId, data: { jobId: "job-1" } });

    const [delivery] = await deliveriesWhen(webhook!.webhookId, settled);
    expect(delivery).toMatchObject({ eventId, eventType: WebhookEventType.JOB_SUCCEEDED, state: DeliveryState.SUCCEEDED, attemptCount: 1, lastStatusCode: 204, lastError: "" });
    expect(delivery!.lastAttemptAt).toBeDefined();
    expect(delivery!.nextAttemptAt).toBeUndefined();
    expect(JSON.parse(delivery!.payload)).toEqual(body);

    expect((await client().listDeliveries({ webhookId: other.webhook!.webhookId })).deliveries).toEqual([]);
    expect(receiver.requests.filter((r) => r.path === "/exports-only")).toEqual([]);
  });

  it("delivers an event id once per endpoint however often it is published", async () => {
    const { webhook } = await createHook("/idempotent");
    const eventId = crypto.randomUUID();
    for (let i = 0; i < 3; i++) {
      await h.webhooks.webhooks.publish({ organizationId: owner.organizationId, type: "job.failed", data: {}, eventId });
    }
    const deliveries = await deliveriesWhen(webhook!.webhookId, settled);
    expect(deliveries.map((d) => d.eventId)).toEqual([eventId]);
  });

  it("retries a failing receiver with backoff until it answers 2xx: three attempts, one event id", async () => {
    const { webhook, secret } = await createHook("/flaky");
    receiver.respond = (req, seen) => (req.path === "/flaky" && seen <= 2 ? 503 : 204);
    await publishJob("job.failed", "job-flaky");
    const [delivery] = await deliveriesWhen(webhook!.webhookId, settled);
    expect(delivery).toMatchObject({ state: DeliveryState.SUCCEEDED, attemptCount: 3, lastStatusCode: 204, lastError: "" });
    const requests = receiver.requests.filter((r) => r.path === "/flaky");
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([delivery!.eventId]));
    for (const r of requests) expect(verifyWebhookSignature(secret, r.headers, r.body).ok).toBe(true);
    const counted = Object.fromEntries((await h.webhooks.dispatcher.metrics.attempts.get()).values.map((v) => [v.labels.outcome, v.value]));
    expect(counted.retrying).toBeGreaterThanOrEqual(2);
    expect(counted.delivered).toBeGreaterThanOrEqual(1);
  });

  it("gives up after the last attempt with the last error, and RedeliverDelivery sends it again", async () => {
    const { webhook, secret } = await createHook("/down");
    let up = false;
    receiver.respond = (req) => (req.path === "/down" && !up ? 500 : 204);
    await publishJob("job.succeeded", "job-down");
    const [failed] = await deliveriesWhen(webhook!.webhookId, settled);
    expect(failed).toMatchObject({ state: DeliveryState.FAILED, attemptCount: MAX_ATTEMPTS, lastStatusCode: 500, lastError: "HTTP 500" });
    expect(failed!.nextAttemptAt).toBeUndefined();
    expect((await client().listDeliveries({ state: DeliveryState.FAILED })).deliveries.map((d) => d.deliveryId)).toContain(failed!.deliveryId);

    up = true;
    const { delivery } = await client().redeliverDelivery({ deliveryId: failed!.deliveryId });
    expect(delivery!.state).toBe(DeliveryState.PENDING);
    expect(delivery!.nextAttemptAt).toBeDefined();
    const [redelivered] = await deliveriesWhen(webhook!.webhookId, (d) => d[0]?.state === DeliveryState.SUCCEEDED);
    expect(redelivered).toMatchObject({ deliveryId: failed!.deliveryId, eventId: failed!.eventId, attemptCount: MAX_ATTEMPTS + 1, lastStatusCode: 204, lastError: "" });
    const requests = receiver.requests.filter((r) => r.path === "/down");
    expect(requests).toHaveLength(MAX_ATTEMPTS + 1);
    expect(requests.at(-1)!.body).toBe(requests[0]!.body);
    expect(verifyWebhookSignature(secret, requests.at(-1)!.headers, requests.at(-1)!.body).ok).toBe(true);
  });

  it("counts a receiver that does not answer in time as a failed attempt", async () => {
    const { webhook } = await createHook("/silent");
    receiver.respond = (req) => (req.path === "/silent" ? "hang" : 204);
    await publishJob("job.succeeded", "job-silent");
    const [failed] = await deliveriesWhen(webhook!.webhookId, settled);
    expect(failed).toMatchObject({ state: DeliveryState.FAILED, attemptCount: MAX_ATTEMPTS, lastStatusCode: 0, lastError: "timeout after 2s" });
  });

  it("records a connection refused as the last error", async () => {
    // A port nobody listens on: the receiver's, after a receiver of its own is closed.
    const gone = await startTestReceiver();
    await gone.close();
    const { webhook } = await client().createWebhook({ url: `https://127.0.0.1:${gone.port}/`, eventTypes: [WebhookEventType.JOB_FAILED] });
    await publishJob("job.failed", "job-refused");
    const [failed] = await deliveriesWhen(webhook!.webhookId, settled);
    expect(failed).toMatchObject({ state: DeliveryState.FAILED, attemptCount: MAX_ATTEMPTS, lastStatusCode: 0 });
    expect(failed!.lastError).toContain("ECONNREFUSED");
  });

  it("picks up deliveries a stopped process left in the database", async () => {
    const { webhook, secret } = await createHook("/after-restart");
    await h.webhooks.dispatcher.stop();
    try {
      await publishJob("job.succeeded", "job-restart");
      const { deliveries } = await client().listDeliveries({ webhookId: webhook!.webhookId });
      expect(deliveries.map((d) => d.state)).toEqual([DeliveryState.PENDING]);
      // A new process: a fresh dispatcher over the same database, knowing nothing but what is stored.
      const box = new SecretBox(await resolveSecretBoxKey(undefined, h.dataDir));
      const guard = new TargetGuard({ allowPrivate: true, allowedCidrs: [] });
      const fresh = new DeliveryDispatcher(h.testDb.db, box, new HttpWebhookSender(guard, { timeoutMs: 2000, ca: receiver.ca }), {
        maxAttempts: MAX_ATTEMPTS,
        retryBaseMs: 20,
        concurrency: 2,
        timeoutMs: 2000,
        pollIntervalMs: 50,
      });
      fresh.start();
      try {
        const [request] = await receiver.waitFor("/after-restart", 1);
        expect(verifyWebhookSignature(secret, request!.headers, request!.body).ok).toBe(true);
        await deliveriesWhen(webhook!.webhookId, settled);
      } finally {
        await fresh.stop();
      }
    } finally {
      h.webhooks.dispatcher.start();
    }
  });
});

describe("endpoints", () => {
  it("rotates the secret: both sign during the grace period, only the new one after a rotation without one", async () => {
    const { webhook, secret: first } = await createHook("/rotating");
    const rotated = await client().rotateWebhookSecret({ webhookId: webhook!.webhookId });
    expect(rotated.secret).not.toBe(first);
    expect(rotated.webhook!.secretPrefix).toBe(rotated.secret.slice(0, 10));
    expect(rotated.webhook!.previousSecretExpiresAt).toBeDefined();

    await publishJob("job.succeeded", "job-rotate-1");
    const [during] = await receiver.waitFor("/rotating", 1);
    expect(String(during!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verifyWebhookSignature(rotated.secret, during!.headers, during!.body).ok).toBe(true);
    expect(verifyWebhookSignature(first, during!.headers, during!.body).ok).toBe(true);

    // A leaked secret: dropped at once.
    const again = await client().rotateWebhookSecret({ webhookId: webhook!.webhookId, previousSecretValidFor: durationFromMs(0) });
    expect(again.webhook!.previousSecretExpiresAt).toBeUndefined();
    await publishJob("job.succeeded", "job-rotate-2");
    const [, after] = await receiver.waitFor("/rotating", 2);
    expect(verifyWebhookSignature(again.secret, after!.headers, after!.body).ok).toBe(true);
    expect(verifyWebhookSignature(rotated.secret, after!.headers, after!.body)).toEqual({ ok: false, reason: "no matching signature" });
  });

  it("lists webhooks without secrets; deleting one stops its deliveries", async () => {
    const { webhook, secret } = await createHook("/deleted");
    const listed = await client().listWebhooks({ pageSize: 200 });
    const found = listed.webhooks.find((w) => w.webhookId === webhook!.webhookId);
    expect(found).toMatchObject({ url: `${receiver.origin}/deleted`, description: "/deleted", eventTypes: [WebhookEventType.JOB_SUCCEEDED, WebhookEventType.JOB_FAILED] });
    expect(JSON.stringify(toJson(ListWebhooksResponseSchema, listed))).not.toContain(secret.slice(10));

    await client().deleteWebhook({ webhookId: webhook!.webhookId });
    expect((await client().listWebhooks({ pageSize: 200 })).webhooks.map((w) => w.webhookId)).not.toContain(webhook!.webhookId);
    await createHook("/kept");
    const { endpoints } = await publishJob("job.succeeded", "job-after-delete");
    expect(endpoints).toBe(1);
    // Its log stays readable.
    expect((await client().listDeliveries({ webhookId: webhook!.webhookId })).deliveries).toEqual([]);
    await expect(client().rotateWebhookSecret({ webhookId: webhook!.webhookId })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("fails the deliveries still waiting when their webhook is deleted, and never sends them", async () => {
    const { webhook } = await createHook("/deleted-while-waiting");
    await h.webhooks.dispatcher.stop();
    try {
      await publishJob("job.failed", "job-waiting");
      await client().deleteWebhook({ webhookId: webhook!.webhookId });
    } finally {
      h.webhooks.dispatcher.start();
    }
    const { deliveries } = await client().listDeliveries({ state: DeliveryState.FAILED });
    expect(deliveries.filter((d) => d.webhookId === webhook!.webhookId)).toMatchObject([{ attemptCount: 0, lastError: "webhook deleted" }]);
    expect(receiver.requests.filter((r) => r.path === "/deleted-while-waiting")).toEqual([]);
  });

  it("delivers a job's events to the job's own callback, signed with its own secret, and to nobody else's", async () => {
    const jobId = crypto.randomUUID();
    const { secret } = await h.webhooks.webhooks.registerJobCallback({ organizationId: owner.organizationId, jobId, url: `${receiver.origin}/job-callback` });
    await h.webhooks.webhooks.publish({ organizationId: owner.organizationId, type: "job.succeeded", data: { jobId: "another" }, jobId: crypto.randomUUID() });
    const { eventId } = await h.webhooks.webhooks.publish({ organizationId: owner.organizationId, type: "job.succeeded", data: { jobId }, jobId });
    const [request] = await receiver.waitFor("/job-callback", 1);
    expect(request!.headers["webhook-id"]).toBe(eventId);
    expect(verifyWebhookSignature(secret, request!.headers, request!.body).ok).toBe(true);
    expect((await client().listWebhooks({})).webhooks).toEqual([]);
    const { deliveries } = await client().listDeliveries({});
    expect(deliveries.map((d) => d.eventId)).toEqual([eventId]);
    await expect(client().rotateWebhookSecret({ webhookId: deliveries[0]!.webhookId })).rejects.toMatchObject({ code: Code.NotFound });
    await expect(client().deleteWebhook({ webhookId: deliveries[0]!.webhookId })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("purges settled deliveries older than the retention, keeping those still due", async () => {
    const { webhook } = await createHook("/purged");
    await publishJob("job.succeeded", "job-old");
    await deliveriesWhen(webhook!.webhookId, settled);
    await h.webhooks.dispatcher.stop();
    try {
      await publishJob("job.succeeded", "job-due");
      const purged = await h.webhooks.webhooks.purgeDeliveries(new Date(Date.now() + 60_000));
      expect(purged).toBeGreaterThanOrEqual(1);
      const left = (await client().listDeliveries({ webhookId: webhook!.webhookId })).deliveries;
      expect(left.map((d) => [(JSON.parse(d.payload) as { data: { jobId: string } }).data.jobId, d.state])).toEqual([["job-due", DeliveryState.PENDING]]);
    } finally {
      h.webhooks.dispatcher.start();
    }
  });

  it("pages the delivery log, newest first", async () => {
    const { webhook } = await createHook("/paged");
    for (let i = 0; i < 3; i++) await publishJob("job.succeeded", `job-page-${i}`);
    await deliveriesWhen(webhook!.webhookId, (d) => d.length === 3 && settled(d));
    const first = await client().listDeliveries({ webhookId: webhook!.webhookId, pageSize: 2 });
    expect(first.deliveries).toHaveLength(2);
    const second = await client().listDeliveries({ webhookId: webhook!.webhookId, pageSize: 2, pageToken: first.nextPageToken });
    expect(second.deliveries).toHaveLength(1);
    expect(second.nextPageToken).toBe("");
    const jobs = [...first.deliveries, ...second.deliveries].map((d) => (JSON.parse(d.payload) as { data: { jobId: string } }).data.jobId);
    expect(jobs).toEqual(["job-page-2", "job-page-1", "job-page-0"]);
  });

  it("is for admins and webhook-scoped API keys only", async () => {
    const member = await joinAs(h, owner.organizationId, "member");
    await expect(h.client(WebhookService, { credential: member.accessToken }).listWebhooks({})).rejects.toMatchObject({ code: Code.PermissionDenied });
    const key = await h.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({ name: "hooks", scopes: [ApiKeyScope.WEBHOOKS] });
    const created = await h.client(WebhookService, { credential: key.secret }).createWebhook({ url: `${receiver.origin}/by-key`, eventTypes: [WebhookEventType.JOB_FAILED] });
    expect(created.secret).toMatch(/^whsec_/);
  });

  it("refuses URLs that are not https, and unknown event types", async () => {
    for (const url of ["http://example.com/hook", "ftp://example.com/", "not a url"]) {
      await expect(client().createWebhook({ url, eventTypes: [WebhookEventType.JOB_FAILED] })).rejects.toMatchObject({ code: Code.InvalidArgument });
    }
    await expect(client().createWebhook({ url: "https://example.com/", eventTypes: [] })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});

describe("SSRF guard (private targets not allowed)", () => {
  const forbidden = [
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[fd00:ec2::254]/hook",
    "https://localhost/hook",
  ];

  it("refuses to register a target that is, or resolves to, a non-public address", async () => {
    const guarded = new Webhooks(h.testDb.db, h.identity.audit, new SecretBox("k".repeat(32)), new TargetGuard({ allowPrivate: false, allowedCidrs: [] }));
    const principal = { kind: "api_key" as const, apiKeyId: "00000000-0000-4000-8000-000000000000", organizationId: owner.organizationId, scopes: ["webhooks" as const], organizationSuspended: false };
    const outcomes: Record<string, string> = {};
    for (const url of forbidden) {
      outcomes[url] = await guarded.create(principal, { url, eventTypes: ["job.succeeded"], description: "" }, anonymousCaller).then(
        () => "accepted",
        (err: unknown) => (err instanceof InvalidArgumentError && err.message.startsWith("url: refused") ? "refused" : String(err)),
      );
    }
    expect(outcomes).toEqual(Object.fromEntries(forbidden.map((u) => [u, "refused"])));
  });

  it("refuses at delivery time too, on the resolved address, and sends nothing", async () => {
    const guard = new TargetGuard({ allowPrivate: false, allowedCidrs: [] });
    const sender = new HttpWebhookSender(guard, { timeoutMs: 2000, ca: receiver.ca });
    const before = receiver.requests.length;
    // `localhost` is a DNS name: refused after resolution, by the lookup the socket itself uses.
    for (const host of ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]"]) {
      const result = await sender.send(`https://${host}:${receiver.port}/ssrf`, {}, "{}");
      expect(result.status).toBe(0);
      expect(result.error).toMatch(/refused: .*(127\.0\.0\.1|::1).* is not a public address/);
    }
    expect(receiver.requests.length).toBe(before);
  });

  it("lets configured networks through", async () => {
    const guard = new TargetGuard({ allowPrivate: false, allowedCidrs: ["127.0.0.0/8"] });
    const sender = new HttpWebhookSender(guard, { timeoutMs: 2000, ca: receiver.ca });
    receiver.respond = () => 204;
    expect(await sender.send(`${receiver.origin}/allowed`, {}, "{}")).toEqual({ status: 204, error: "" });
  });
});
