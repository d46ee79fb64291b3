// Composes webhooks for the API process: publishing and the dispatcher (services/webhooks), and the
// WebhookService handler.
import type { Logger } from "pino";
import type { Config } from "../platform/config/config.js";
import type { Database } from "../platform/database/database.js";
import type { AuditLog } from "../identity/audit/audit-log.js";
import { openWebhooks, type OpenWebhooks } from "../webhooks/index.js";
import { webhookHandler } from "../webhooks/handler.js";
import type { ProductHandlers } from "./product-services.js";

export interface WebhooksCapability extends OpenWebhooks {
  handlers: ProductHandlers;
}

export async function createWebhooks(
  config: Pick<Config, "webhooks" | "dataDir">,
  adapters: { database: Database; audit: AuditLog; logger?: Logger },
  options: Parameters<typeof openWebhooks>[2] = {},
): Promise<WebhooksCapability> {
  const opened = await openWebhooks(config, adapters, options);
  return { ...opened, handlers: { "arabicstt.v1.WebhookService": webhookHandler(opened.webhooks) } };
}
