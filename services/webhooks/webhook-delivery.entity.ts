import { EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { Organization } from "../identity/model/organization.entity.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";

/**
 * pending: no attempt yet (or redelivery asked for); retrying: an attempt failed and another is due at
 * `nextAttemptAt`; delivered: a 2xx came back; failed: the attempts ran out.
 */
export const WEBHOOK_DELIVERY_STATUSES = ["pending", "retrying", "delivered", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** One event on its way to one endpoint, with its retry state. */
export class WebhookDelivery extends BaseEntity {
  organization!: Organization;
  endpoint!: WebhookEndpoint;
  /**
   * The event's id, sent to the receiver so it can drop duplicates; unique per endpoint so enqueuing the same
   * event twice does not deliver it twice.
   */
  eventId!: string;
  /** Event type, e.g. "job.succeeded". */
  event!: string;
  payload!: Record<string, unknown>;
  status: Opt<WebhookDeliveryStatus> = "pending";
  attempts: Opt<number> = 0;
  /**
   * When the next attempt is due. While an attempt is in flight it holds the claim's expiry instead, so a
   * delivery whose sender died is picked up again once that passes.
   */
  nextAttemptAt: Date | null = null;
  lastAttemptAt: Date | null = null;
  responseStatus: number | null = null;
  lastError: string | null = null;
}

export const WebhookDeliverySchema = new EntitySchema<WebhookDelivery, BaseEntity>({
  class: WebhookDelivery,
  extends: BaseEntitySchema,
  tableName: "webhook_deliveries",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    endpoint: { kind: "m:1", entity: () => WebhookEndpoint, deleteRule: "cascade" },
    eventId: { type: "uuid" },
    event: { type: "text" },
    payload: { type: "json" },
    status: { enum: true, items: [...WEBHOOK_DELIVERY_STATUSES], default: "pending" },
    attempts: { type: "integer", default: 0 },
    nextAttemptAt: { type: "datetime", nullable: true },
    lastAttemptAt: { type: "datetime", nullable: true },
    responseStatus: { type: "integer", nullable: true },
    lastError: { type: "text", nullable: true },
  },
  uniques: [{ properties: ["endpoint", "eventId"] }],
  // The second index serves the dispatcher: pending deliveries whose next attempt is due.
  indexes: [{ properties: ["organization", "createdAt"] }, { properties: ["status", "nextAttemptAt"] }],
});
