// Webhook signatures, in the Standard Webhooks scheme (https://www.standardwebhooks.com) that
// proto/arabicstt/v1/webhook.proto promises receivers:
//
//   webhook-id:        the event id, the same on every attempt (deduplicate on it)
//   webhook-timestamp: Unix seconds of this attempt
//   webhook-signature: "v1,<base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`>", one per valid secret,
//                      separated by spaces (two while a rotated secret is still valid)
//
// The HMAC key is the secret's bytes: the base64 after "whsec_". Receivers check the timestamp against
// their clock, so a captured request cannot be replayed later.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const WEBHOOK_SECRET_PREFIX = "whsec_";

/** A new signing secret: "whsec_" and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, "base64");
}

function sign(secret: string, id: string, timestamp: number, body: string): string {
  return createHmac("sha256", keyOf(secret)).update(`${id}.${timestamp}.${body}`, "utf8").digest("base64");
}

export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** The headers of one attempt, signed with every secret given (the current one first). */
export function signWebhook(secrets: string[], id: string, body: string, now = new Date()): WebhookHeaders {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((s) => `v1,${sign(s, id, timestamp, body)}`).join(" "),
  };
}

export type VerifyResult = { ok: true } | { ok: false; reason: "missing headers" | "timestamp outside tolerance" | "no matching signature" };

/**
 * For receivers (and our tests): whether `body` with these headers was signed with `secret` within
 * `toleranceSeconds` of `now`. Pass the raw body exactly as received, before any JSON parsing.
 */
export function verifyWebhookSignature(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  toleranceSeconds = 300,
  now = new Date(),
): VerifyResult {
  const one = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = one("webhook-id");
  const timestampText = one("webhook-timestamp");
  const signatures = one("webhook-signature");
  if (!id || !timestampText || !signatures || !/^\d+$/.test(timestampText)) return { ok: false, reason: "missing headers" };
  const timestamp = Number(timestampText);
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return { ok: false, reason: "timestamp outside tolerance" };
  const expected = Buffer.from(sign(secret, id, timestamp, body), "base64");
  for (const entry of signatures.split(" ")) {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: "no matching signature" };
}
