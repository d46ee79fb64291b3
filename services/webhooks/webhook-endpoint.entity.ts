import { ArrayType, EntitySchema, type Opt } from "@mikro-orm/core";
import { BaseEntity, BaseEntitySchema } from "../platform/database/base.entity.js";
import { notDeletedFilter } from "../platform/database/soft-delete.js";
import { Organization } from "../identity/model/organization.entity.js";

/** Where an organisation wants events delivered. */
export class WebhookEndpoint extends BaseEntity {
  organization!: Organization;
  url!: string;
  /**
   * The signing secret, encrypted by the webhooks service with the server's key. It cannot be a hash: every
   * delivery must be signed with the secret itself.
   */
  secretEncrypted!: string;
  /** The first characters of the current secret ("whsec_Zk3"), to tell secrets apart. */
  secretPrefix: Opt<string> = "";
  /** After a rotation: the previous secret, encrypted like the current one, signing alongside it until it expires. */
  previousSecretEncrypted: string | null = null;
  previousSecretExpiresAt: Date | null = null;
  /** What the webhook is for, for people. */
  description: Opt<string> = "";
  /**
   * Set on a job's own callback (CreateJobRequest.webhook_url): the job's id. Such an endpoint receives only
   * that job's events, and is not one of the organisation's webhooks (not listed, rotated or deleted by id).
   */
  callbackForJobId: string | null = null;
  /** Event types to send (e.g. "job.succeeded"); empty means all. */
  events: Opt<string[]> = [];
  active: Opt<boolean> = true;
  deletedAt: Date | null = null;
}

export const WebhookEndpointSchema = new EntitySchema<WebhookEndpoint, BaseEntity>({
  class: WebhookEndpoint,
  extends: BaseEntitySchema,
  tableName: "webhook_endpoints",
  properties: {
    organization: { kind: "m:1", entity: () => Organization, deleteRule: "cascade" },
    url: { type: "text" },
    secretEncrypted: { type: "text", hidden: true },
    secretPrefix: { type: "text", default: "" },
    previousSecretEncrypted: { type: "text", nullable: true, hidden: true },
    previousSecretExpiresAt: { type: "datetime", nullable: true },
    description: { type: "text", default: "" },
    callbackForJobId: { type: "uuid", nullable: true },
    events: { type: ArrayType, defaultRaw: "'{}'" },
    active: { type: "boolean", default: true },
    deletedAt: { type: "datetime", nullable: true },
  },
  indexes: [{ properties: ["organization", "createdAt"] }, { properties: ["callbackForJobId"] }],
  filters: { notDeleted: notDeletedFilter },
});
