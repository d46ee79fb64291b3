// Webhooks: endpoints an organisation registers, and the events published to them. Publishing writes one
// delivery row per matching endpoint and nothing else; the database is the source of truth and the
// DeliveryDispatcher (./dispatcher.ts) sends whatever is due, in this process or another.
import { randomUUID } from "node:crypto";
import type { Database } from "../platform/database/database.js";
import { TenantScope } from "../platform/database/tenant-scope.js";
import { decodeOffset, encodeOffset, pageSize, type Page } from "../platform/database/paging.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../platform/errors/errors.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import type { Caller, Principal } from "../identity/model/principal.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";
import { WebhookDelivery, type WebhookDeliveryStatus } from "./webhook-delivery.entity.js";
import { newWebhookSecret } from "./signature.js";
import type { SecretBox } from "./secret-box.js";
import type { TargetGuard } from "./target-guard.js";

/** The events there are, in the lower dotted form sent as `type` (proto WebhookEventType). */
export const WEBHOOK_EVENT_TYPES = [
  "media.ready",
  "media.failed",
  "job.succeeded",
  "job.failed",
  "job.cancelled",
  "transcript.updated",
  "transcript.deleted",
  "export.succeeded",
  "export.failed",
  "live_session.closed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What is POSTed, and stored as the delivery's payload (proto WebhookService's comment). */
export interface WebhookEnvelope {
  id: string;
  type: WebhookEventType;
  created_at: string;
  organization_id: string;
  /** The resource in the Protobuf JSON mapping (a Job, an Export, ...). */
  data: unknown;
}

export interface WebhookEvent {
  organizationId: string;
  type: WebhookEventType;
  /** The resource, already in the Protobuf JSON mapping (`toJson(JobSchema, job)`). */
  data: unknown;
  /**
   * The event's id. Give a stable one (say, derived from the job id and its final state) when the publish
   * may be repeated, as by a pipeline step that re-runs after a crash: the same id is delivered once per
   * endpoint. Default: a new UUID.
   */
  eventId?: string;
  occurredAt?: Date;
  /** The job the event is about: its own callback (registerJobCallback) receives it too, whatever the type. */
  jobId?: string;
}

/** How long a rotated-out secret keeps signing when the caller does not say. */
export const DEFAULT_PREVIOUS_SECRET_VALIDITY_MS = 24 * 3600 * 1000;
const SECRET_PREFIX_LENGTH = "whsec_".length + 4;

export class Webhooks {
  /** Called after a publish or redelivery wrote due deliveries, so a dispatcher in this process starts at once. */
  onDue: () => void = () => undefined;

  constructor(
    private readonly database: Database,
    private readonly audit: AuditLog,
    private readonly secrets: SecretBox,
    private readonly guard: TargetGuard,
  ) {}

  async create(principal: Principal, input: { url: string; eventTypes: WebhookEventType[]; description: string }, caller: Caller): Promise<{ webhook: WebhookEndpoint; secret: string }> {
    const url = parseTarget(input.url);
    await this.guard.check(url);
    if (input.eventTypes.length === 0) throw new InvalidArgumentError("event_types", "needs at least one event type");
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const secret = newWebhookSecret();
    const webhook = tenant.create(WebhookEndpoint, {
      url: url.toString(),
      description: input.description.trim(),
      events: [...new Set(input.eventTypes)].sort((a, b) => WEBHOOK_EVENT_TYPES.indexOf(a) - WEBHOOK_EVENT_TYPES.indexOf(b)),
      secretEncrypted: this.secrets.seal(secret),
      secretPrefix: secret.slice(0, SECRET_PREFIX_LENGTH),
    });
    await tenant.flush();
    await this.audit.record({ action: "webhook.create", outcome: "success", ...actor(principal), targetType: "webhook", targetId: webhook.id, details: { url: webhook.url } }, caller);
    return { webhook, secret };
  }

  async list(principal: Principal, input: { pageSize: number; pageToken: string }): Promise<Page<WebhookEndpoint>> {
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    const rows = await tenant.find(WebhookEndpoint, { callbackForJobId: null }, { orderBy: { createdAt: "asc", id: "asc" }, limit: limit + 1, offset });
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "" };
  }

  /** Soft-deletes the endpoint; deliveries still waiting are FAILED with "webhook deleted" and never sent. */
  async delete(principal: Principal, webhookId: string, caller: Caller): Promise<void> {
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const webhook = await tenant.findOne(WebhookEndpoint, { id: webhookId, callbackForJobId: null });
    if (!webhook) throw new NotFoundError("webhook", webhookId);
    webhook.deletedAt = new Date();
    webhook.active = false;
    for (const delivery of await tenant.find(WebhookDelivery, { endpoint: webhook.id, status: { $in: ["pending", "retrying"] } })) {
      delivery.status = "failed";
      delivery.nextAttemptAt = null;
      delivery.lastError = "webhook deleted";
    }
    await tenant.flush();
    await this.audit.record({ action: "webhook.delete", outcome: "success", ...actor(principal), targetType: "webhook", targetId: webhook.id }, caller);
  }

  async rotateSecret(principal: Principal, webhookId: string, previousValidForMs: number | undefined, caller: Caller): Promise<{ webhook: WebhookEndpoint; secret: string }> {
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const webhook = await tenant.findOne(WebhookEndpoint, { id: webhookId, callbackForJobId: null });
    if (!webhook) throw new NotFoundError("webhook", webhookId);
    const validFor = previousValidForMs ?? DEFAULT_PREVIOUS_SECRET_VALIDITY_MS;
    const secret = newWebhookSecret();
    webhook.previousSecretEncrypted = validFor > 0 ? webhook.secretEncrypted : null;
    webhook.previousSecretExpiresAt = validFor > 0 ? new Date(Date.now() + validFor) : null;
    webhook.secretEncrypted = this.secrets.seal(secret);
    webhook.secretPrefix = secret.slice(0, SECRET_PREFIX_LENGTH);
    await tenant.flush();
    await this.audit.record(
      { action: "webhook.rotate_secret", outcome: "success", ...actor(principal), targetType: "webhook", targetId: webhook.id, details: { previous_valid_for_seconds: String(Math.round(validFor / 1000)) } },
      caller,
    );
    return { webhook, secret };
  }

  async listDeliveries(principal: Principal, input: { webhookId: string; status?: WebhookDeliveryStatus; pageSize: number; pageToken: string }): Promise<Page<WebhookDelivery>> {
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    if (input.webhookId) {
      // Deliveries of a deleted webhook stay listable, so the filter looks past the soft-delete filter.
      const webhook = await tenant.findOne(WebhookEndpoint, { id: input.webhookId }, { filters: { notDeleted: false } });
      if (!webhook) throw new NotFoundError("webhook", input.webhookId);
    }
    const where = { ...(input.webhookId ? { endpoint: input.webhookId } : {}), ...(input.status ? { status: input.status } : {}) };
    // MikroORM would apply the endpoint's soft-delete filter through the relation and hide these rows.
    const rows = await tenant.find(WebhookDelivery, where, { orderBy: { createdAt: "desc", id: "desc" }, limit: limit + 1, offset, filters: { notDeleted: false } });
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "" };
  }

  /** Due again now, with the same event id and body, whatever its state; one more attempt if it had run out. */
  async redeliver(principal: Principal, deliveryId: string, caller: Caller): Promise<WebhookDelivery> {
    const tenant = new TenantScope(this.database.fork(), principal.organizationId);
    const delivery = await tenant.findOne(WebhookDelivery, { id: deliveryId }, { filters: { notDeleted: false } });
    if (!delivery) throw new NotFoundError("webhook delivery", deliveryId);
    const webhook = await tenant.findOne(WebhookEndpoint, { id: delivery.endpoint.id });
    if (!webhook) throw new FailedPreconditionError("the delivery's webhook was deleted");
    delivery.status = "pending";
    delivery.nextAttemptAt = new Date();
    await tenant.flush();
    await this.audit.record({ action: "webhook.redeliver", outcome: "success", ...actor(principal), targetType: "webhook_delivery", targetId: delivery.id }, caller);
    this.onDue();
    return delivery;
  }

  /**
   * Records `event` for every active endpoint of its organisation that subscribes to its type, to be sent
   * by the dispatcher. Returns the event id and how many endpoints subscribe. Publishing the same
   * `eventId` again adds nothing for the endpoints that already have it.
   */
  async publish(event: WebhookEvent): Promise<{ eventId: string; endpoints: number }> {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event.type)) throw new InvalidArgumentError("type", `is not a webhook event type: ${event.type}`);
    const tenant = new TenantScope(this.database.fork(), event.organizationId);
    const subscribed = { callbackForJobId: null, $or: [{ events: { $contains: [event.type] } }, { events: { $eq: [] } }] };
    const endpoints = await tenant.find(WebhookEndpoint, { active: true, ...(event.jobId ? { $or: [subscribed, { callbackForJobId: event.jobId }] } : subscribed) });
    const eventId = event.eventId ?? randomUUID();
    if (endpoints.length === 0) return { eventId, endpoints: 0 };
    const envelope: WebhookEnvelope = {
      id: eventId,
      type: event.type,
      created_at: (event.occurredAt ?? new Date()).toISOString(),
      organization_id: event.organizationId,
      data: event.data,
    };
    const now = new Date();
    const rows = endpoints.map((endpoint) => ({
      id: randomUUID(),
      organization: tenant.organizationId,
      endpoint: endpoint.id,
      eventId,
      event: event.type,
      payload: envelope as unknown as Record<string, unknown>,
      status: "pending" as const,
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
      updatedAt: now,
    }));
    // ON CONFLICT DO NOTHING on (endpoint, event_id): a repeated publish is a no-op per endpoint.
    await tenant.em.upsertMany(WebhookDelivery, rows, { onConflictFields: ["endpoint", "eventId"], onConflictAction: "ignore" });
    this.onDue();
    return { eventId, endpoints: endpoints.length };
  }

  /**
   * For the scheduled cleanup: deletes settled deliveries (delivered or failed) created before `before`
   * (ListDeliveries promises 30 days), and job callbacks with nothing left to send. Returns how many
   * deliveries went. Across organisations by nature; it reads no tenant data.
   */
  async purgeDeliveries(before: Date): Promise<number> {
    const em = this.database.fork();
    const deleted = await em.nativeDelete(WebhookDelivery, { createdAt: { $lt: before }, status: { $in: ["delivered", "failed"] } });
    await em.getConnection().execute(
      `delete from "webhook_endpoints" e where e."callback_for_job_id" is not null and e."created_at" < ?
         and not exists (select 1 from "webhook_deliveries" d where d."endpoint_id" = e."id")`,
      [before],
    );
    return deleted;
  }

  /**
   * A job's own callback (CreateJobRequest.webhook_url): an endpoint that receives that job's events only
   * (publish with `jobId`), signed with the secret returned here, to show once in CreateJobResponse. Call it
   * once, when the job is created; the URL passes the same checks as CreateWebhook.
   */
  /**
   * The job's own callback endpoint (CreateJobRequest.webhook_url), once per job: a second call finds the
   * first one. `secret` is the one CreateJob already handed out; a new one is made when it is absent.
   */
  async registerJobCallback(input: { organizationId: string; jobId: string; url: string; secret?: string }): Promise<{ secret: string; created: boolean }> {
    const url = parseTarget(input.url, "webhook_url");
    await this.guard.check(url);
    const tenant = new TenantScope(this.database.fork(), input.organizationId);
    const existing = await tenant.findOne(WebhookEndpoint, { callbackForJobId: input.jobId });
    if (existing) return { secret: this.secrets.open(existing.secretEncrypted), created: false };
    const secret = input.secret ?? newWebhookSecret();
    tenant.create(WebhookEndpoint, {
      url: url.toString(),
      description: `callback of job ${input.jobId}`,
      callbackForJobId: input.jobId,
      events: [],
      secretEncrypted: this.secrets.seal(secret),
      secretPrefix: secret.slice(0, SECRET_PREFIX_LENGTH),
    });
    await tenant.flush();
    return { secret, created: true };
  }
}

function actor(principal: Principal) {
  return principal.kind === "user"
    ? { organizationId: principal.organizationId, actorUserId: principal.userId }
    : { organizationId: principal.organizationId, actorApiKeyId: principal.apiKeyId };
}

function parseTarget(text: string, field = "url"): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(field, "is not a URL");
  }
  if (url.protocol !== "https:") throw new InvalidArgumentError(field, "must start with https://");
  if (url.username || url.password) throw new InvalidArgumentError(field, "must not carry credentials; authenticate deliveries by their signature");
  url.hash = "";
  return url;
}
