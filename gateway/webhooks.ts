// Composes webhooks (endpoints, publishing, the delivery dispatcher) from the config and the adapters, for
// a composition root: the domain object other capabilities publish through, the dispatcher that sends,
// and the WebhookService handler.
import type { Logger } from "pino";
import type { Config } from "../services/config/config.js";
import type { Database } from "../services/database/database.js";
import type { AuditLog } from "../services/audit/audit-log.js";
import { Webhooks } from "../services/webhooks/webhooks.js";
import { DeliveryDispatcher } from "../services/webhooks/dispatcher.js";
import { webhookHandler } from "../services/webhooks/handler.js";
import { SecretBox, resolveSecretBoxKey } from "../services/webhooks/secret-box.js";
import { HttpWebhookSender } from "../services/webhooks/sender.js";
import { TargetGuard } from "../services/webhooks/target-guard.js";
import type { ProductHandlers } from "./routes.js";

export interface WebhooksCapability {
  /** `webhooks.publish(event)`: how the job runner and others raise events. */
  webhooks: Webhooks;
  dispatcher: DeliveryDispatcher;
  handlers: ProductHandlers;
  /** Stops the dispatcher, after the attempts in flight. */
  close(): Promise<void>;
}

export async function createWebhooks(
  config: Pick<Config, "webhooks" | "dataDir">,
  adapters: { database: Database; audit: AuditLog; logger?: Logger },
  options: {
    /** Extra CA certificates the sender trusts (tests' self-signed receivers). */
    ca?: string;
    pollIntervalMs?: number;
    /**
     * Run a dispatcher in this process (default). A process that only publishes (say, a worker beside a
     * gateway) may leave sending to the others; several dispatchers share the work safely either way.
     */
    dispatch?: boolean;
  } = {},
): Promise<WebhooksCapability> {
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
  );
  webhooks.onDue = () => dispatcher.wake();
  if (options.dispatch ?? true) dispatcher.start();
  return {
    webhooks,
    dispatcher,
    handlers: { "arabicstt.v1.WebhookService": webhookHandler(webhooks) },
    close: () => dispatcher.stop(),
  };
}
