import { EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../database/base.entity.js";
import { Organization } from "../orgs/organization.entity.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
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
  nextAttemptAt: Date | null = null;
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
    responseStatus: { type: "integer", nullable: true },
    lastError: { type: "text", nullable: true },
  },
  uniques: [{ properties: ["endpoint", "eventId"] }],
  // The second index serves the dispatcher: pending deliveries whose next attempt is due.
  indexes: [{ properties: ["organization", "createdAt"] }, { properties: ["status", "nextAttemptAt"] }],
});
