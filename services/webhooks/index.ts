// Webhooks for a composition root (the gateway's, the worker's): the domain object other capabilities
// publish through, and the dispatcher that sends what is due. The WebhookService handler is mounted by
// the composition root (services/app/webhooks.ts).
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../platform/config/config.js";
import type { Database } from "../platform/database/database.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import { Webhooks } from "./webhooks.js";
import { DeliveryDispatcher } from "./dispatcher.js";
import { SecretBox, resolveSecretBoxKey } from "./secret-box.js";
import { HttpWebhookSender } from "./sender.js";
import { TargetGuard } from "./target-guard.js";

export { Webhooks, WEBHOOK_EVENT_TYPES, type WebhookEvent, type WebhookEventType, type WebhookEnvelope } from "./webhooks.js";
export { verifyWebhookSignature, signWebhook } from "./signature.js";

export interface OpenWebhooks {
  /** `webhooks.publish(event)`: how the job runner and others raise events. */
  webhooks: Webhooks;
  dispatcher: DeliveryDispatcher;
  /** Stops the dispatcher, after the attempts in flight. */
  close(): Promise<void>;
}

export async function openWebhooks(
  config: Pick<Config, "webhooks" | "dataDir">,
  adapters: { database: Database; audit: AuditLog; logger?: Logger },
  options: {
    /** Extra CA certificates the sender trusts (tests' self-signed receivers). */
    ca?: string;
    pollIntervalMs?: number;
    /** Where the dispatcher's metrics go (the process's /metrics registry). */
    registry?: Registry;
    /**
     * Run a dispatcher in this process (default). A process that only publishes may leave sending to the
     * others; several dispatchers share the work safely either way.
     */
    dispatch?: boolean;
  } = {},
): Promise<OpenWebhooks> {
  const c = config.webhooks;
  const secrets = new SecretBox(await resolveSecretBoxKey(c.secretKey, config.dataDir));
  const guard = new TargetGuard({ allowPrivate: c.allowPrivateTargets, allowedCidrs: c.allowedCidrs });
  const webhooks = new Webhooks(adapters.database, adapters.audit, secrets, guard);
  const sender = new HttpWebhookSender(guard, { timeoutMs: c.timeoutMs, ca: options.ca });
  const dispatcher = new DeliveryDispatcher(
    adapters.database,
    secrets,
    sender,
    { maxAttempts: c.maxAttempts, retryBaseMs: c.retryBaseMs, concurrency: c.concurrency, timeoutMs: c.timeoutMs, pollIntervalMs: options.pollIntervalMs },
    adapters.logger,
    options.registry,
  );
  webhooks.onDue = () => dispatcher.wake();
  if (options.dispatch ?? true) dispatcher.start();
  return { webhooks, dispatcher, close: () => dispatcher.stop() };
}
