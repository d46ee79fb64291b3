import { EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";

/**
 * A Stripe webhook event, recorded in the transaction that applies it: the unique event id turns a replay
 * (Stripe retries, a resend from the dashboard) into a no-op.
 */
export class StripeEvent extends BaseEntity {
  eventId!: string;
  type!: string;
  /** The event's own `created` time, which orders events that arrive out of order. */
  eventCreatedAt!: Date;
  /** The organisation it concerned, when one was found. */
  organizationId: string | null = null;
  /** Whether it changed anything (false: older than what was applied already, or about nothing of ours). */
  applied: Opt<boolean> = false;
}

export const StripeEventSchema = new EntitySchema<StripeEvent, BaseEntity>({
  class: StripeEvent,
  extends: BaseEntitySchema,
  tableName: "billing_stripe_events",
  properties: {
    eventId: { type: "text", unique: true },
    type: { type: "text" },
    eventCreatedAt: { type: "datetime" },
    organizationId: { type: "uuid", nullable: true },
    applied: { type: "boolean", default: false },
  },
  indexes: [{ properties: ["organizationId"] }],
});
