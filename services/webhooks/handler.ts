// WebhookService over the wire.
import { create } from "@bufbuild/protobuf";
import { durationMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  DeliveryState,
  WebhookDeliverySchema,
  WebhookEventType as EventTypeMessage,
  WebhookSchema,
  type Webhook as WebhookMessage,
  type WebhookDelivery as DeliveryMessage,
  type WebhookService,
} from "../../proto/gen/arabicstt/v1/webhook_pb.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { callerOf, principalOf } from "../identity/model/context.js";
import type { WebhookEndpoint } from "./webhook-endpoint.entity.js";
import type { WebhookDelivery, WebhookDeliveryStatus } from "./webhook-delivery.entity.js";
import type { WebhookEventType, Webhooks } from "./webhooks.js";

const eventTypeToProto: Record<WebhookEventType, EventTypeMessage> = {
  "media.ready": EventTypeMessage.MEDIA_READY,
  "media.failed": EventTypeMessage.MEDIA_FAILED,
  "job.succeeded": EventTypeMessage.JOB_SUCCEEDED,
  "job.failed": EventTypeMessage.JOB_FAILED,
  "job.cancelled": EventTypeMessage.JOB_CANCELLED,
  "transcript.updated": EventTypeMessage.TRANSCRIPT_UPDATED,
  "transcript.deleted": EventTypeMessage.TRANSCRIPT_DELETED,
  "export.succeeded": EventTypeMessage.EXPORT_SUCCEEDED,
  "export.failed": EventTypeMessage.EXPORT_FAILED,
  "live_session.closed": EventTypeMessage.LIVE_SESSION_CLOSED,
};

function fromEventType(type: EventTypeMessage): WebhookEventType {
  const found = (Object.keys(eventTypeToProto) as WebhookEventType[]).find((t) => eventTypeToProto[t] === type);
  if (!found) throw new InvalidArgumentError("event_types", "holds an event type this server does not know");
  return found;
}

const stateToProto: Record<WebhookDeliveryStatus, DeliveryState> = {
  pending: DeliveryState.PENDING,
  retrying: DeliveryState.RETRYING,
  delivered: DeliveryState.SUCCEEDED,
  failed: DeliveryState.FAILED,
};

const stateFromProto: Partial<Record<DeliveryState, WebhookDeliveryStatus>> = {
  [DeliveryState.PENDING]: "pending",
  [DeliveryState.RETRYING]: "retrying",
  [DeliveryState.SUCCEEDED]: "delivered",
  [DeliveryState.FAILED]: "failed",
};

export function toWebhook(webhook: WebhookEndpoint, now = new Date()): WebhookMessage {
  const previousValid = webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > now;
  return create(WebhookSchema, {
    webhookId: webhook.id,
    url: webhook.url,
    description: webhook.description,
    eventTypes: webhook.events.map((e) => eventTypeToProto[e as WebhookEventType]).filter((e) => e !== undefined),
    secretPrefix: webhook.secretPrefix,
    previousSecretExpiresAt: previousValid ? timestampFromDate(webhook.previousSecretExpiresAt!) : undefined,
    createdAt: timestampFromDate(webhook.createdAt),
    updatedAt: timestampFromDate(webhook.updatedAt),
  });
}

export function toDelivery(delivery: WebhookDelivery): DeliveryMessage {
  const waiting = delivery.status === "pending" || delivery.status === "retrying";
  return create(WebhookDeliverySchema, {
    deliveryId: delivery.id,
    webhookId: delivery.endpoint.id,
    eventId: delivery.eventId,
    eventType: eventTypeToProto[delivery.event as WebhookEventType] ?? EventTypeMessage.UNSPECIFIED,
    state: stateToProto[delivery.status as WebhookDeliveryStatus],
    attemptCount: delivery.attempts,
    lastStatusCode: delivery.responseStatus ?? 0,
    lastError: delivery.lastError ?? "",
    payload: JSON.stringify(delivery.payload),
    createdAt: timestampFromDate(delivery.createdAt),
    lastAttemptAt: delivery.lastAttemptAt ? timestampFromDate(delivery.lastAttemptAt) : undefined,
    nextAttemptAt: waiting && delivery.nextAttemptAt ? timestampFromDate(delivery.nextAttemptAt) : undefined,
  });
}

export function webhookHandler(webhooks: Webhooks): Partial<ServiceImpl<typeof WebhookService>> {
  return {
    async createWebhook(req, ctx) {
      const { webhook, secret } = await webhooks.create(
        principalOf(ctx.values),
        { url: req.url, eventTypes: req.eventTypes.map(fromEventType), description: req.description },
        callerOf(ctx.values),
      );
      return { webhook: toWebhook(webhook), secret };
    },
    async listWebhooks(req, ctx) {
      const page = await webhooks.list(principalOf(ctx.values), req);
      return { webhooks: page.items.map((w) => toWebhook(w)), nextPageToken: page.nextPageToken };
    },
    async deleteWebhook(req, ctx) {
      await webhooks.delete(principalOf(ctx.values), req.webhookId, callerOf(ctx.values));
      return {};
    },
    async rotateWebhookSecret(req, ctx) {
      const validFor = req.previousSecretValidFor ? durationMs(req.previousSecretValidFor) : undefined;
      const { webhook, secret } = await webhooks.rotateSecret(principalOf(ctx.values), req.webhookId, validFor, callerOf(ctx.values));
      return { webhook: toWebhook(webhook), secret };
    },
    async listDeliveries(req, ctx) {
      const page = await webhooks.listDeliveries(principalOf(ctx.values), {
        webhookId: req.webhookId,
        status: stateFromProto[req.state],
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { deliveries: page.items.map(toDelivery), nextPageToken: page.nextPageToken };
    },
    async redeliverDelivery(req, ctx) {
      return { delivery: toDelivery(await webhooks.redeliver(principalOf(ctx.values), req.deliveryId, callerOf(ctx.values))) };
    },
  };
}
