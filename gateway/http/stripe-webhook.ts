// POST /webhooks/stripe on the HTTP/1.1 listener: Stripe's signed events, verified against the raw body
// (stripe.webhooks.constructEvent, in services/billing) and applied once per event id. Stripe retries
// anything but a 2xx, so an event already applied, or about nothing of ours, is a 200 as well; a bad
// signature is a 400, a failure to apply a 500 (Stripe sends it again).
import type { IncomingMessage } from "node:http";
import type { Logger } from "../../services/platform/logger.js";
import type { HttpRoute } from "../../services/platform/probes.js";
import { WebhookSignatureError, type BillingCapability } from "../../services/billing/capability.js";

export const STRIPE_WEBHOOK_PATH = "/webhooks/stripe";
/** Stripe's events are a few kilobytes; a body past this is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The route, when billing receives Stripe's webhooks (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET set); else it claims nothing. */
export function stripeWebhookRoute(billing: Pick<BillingCapability, "stripeEvents">, logger: Logger): HttpRoute {
  return async (req, res) => {
    const events = billing.stripeEvents;
    if (!events || new URL(req.url ?? "/", "http://localhost").pathname !== STRIPE_WEBHOOK_PATH) return false;
    const answer = (status: number, body: Record<string, unknown>) =>
      res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" }).end(JSON.stringify(body));
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      answer(405, { error: "POST only" });
      return true;
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      answer(413, { error: `body over ${MAX_BODY_BYTES} bytes` });
      req.destroy();
      return true;
    }
    const signature = req.headers["stripe-signature"];
    try {
      const outcome = await events.receive(body, typeof signature === "string" ? signature : undefined);
      answer(200, { received: true, outcome });
    } catch (err) {
      if (err instanceof WebhookSignatureError) {
        logger.warn({ reason: err.message }, "stripe webhook refused: bad signature");
        answer(400, { error: "signature verification failed" });
        return true;
      }
      logger.error({ err }, "stripe webhook failed; Stripe sends it again");
      answer(500, { error: "internal error" });
    }
    return true;
  };
}
