// Sends due deliveries. Each round claims up to the free concurrency in one statement
// (FOR UPDATE SKIP LOCKED, so several processes share the work without sending anything twice at once)
// by pushing `next_attempt_at` out by a lease; a process that dies mid-attempt leaves its claims to lapse
// and any dispatcher picks them up again. Nothing lives only in memory: a restart loses no delivery.
import type { Logger } from "pino";
import { Counter, Histogram, Registry } from "prom-client";
import type { Database } from "../platform/database/database.js";
import { WebhookDelivery } from "./webhook-delivery.entity.js";
import { WebhookEndpoint } from "./webhook-endpoint.entity.js";
import type { SecretBox } from "./secret-box.js";
import type { WebhookSender } from "./sender.js";
import { signWebhook } from "./signature.js";

export interface DispatcherOptions {
  maxAttempts: number;
  retryBaseMs: number;
  concurrency: number;
  /** The sender's time limit; claims last this plus a margin. */
  timeoutMs: number;
  /** How often the database is asked for due deliveries (retries come due without anyone saying so). */
  pollIntervalMs?: number;
}

const MAX_RETRY_DELAY_MS = 6 * 3600 * 1000;
const LEASE_MARGIN_MS = 30_000;

/** Delay before attempt `failedAttempts + 1`: base × 4^(n−1), at most 6 hours, ±20 % jitter so retries of one outage spread out. */
export function retryDelayMs(failedAttempts: number, baseMs: number, random = Math.random): number {
  const delay = Math.min(baseMs * 4 ** (failedAttempts - 1), MAX_RETRY_DELAY_MS);
  return Math.round(delay * (0.8 + 0.4 * random()));
}

export class DeliveryDispatcher {
  /** Attempts by outcome (delivered, retrying, failed) and their duration, on the registry given or a private one. */
  readonly metrics: { attempts: Counter<"outcome">; duration: Histogram };
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = true;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly database: Database,
    private readonly secrets: SecretBox,
    private readonly sender: WebhookSender,
    private readonly options: DispatcherOptions,
    private readonly logger?: Logger,
    registry: Registry = new Registry(),
  ) {
    this.metrics = {
      attempts: new Counter({
        name: "arabicstt_webhook_attempts_total",
        help: "Webhook delivery attempts, by what became of the delivery: delivered, retrying or failed.",
        labelNames: ["outcome"],
        registers: [registry],
      }),
      duration: new Histogram({
        name: "arabicstt_webhook_attempt_duration_seconds",
        help: "Time from the start of a webhook attempt to the receiver's status (or the error).",
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
        registers: [registry],
      }),
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.options.pollIntervalMs ?? 1000);
    this.timer.unref();
    this.wake();
  }

  /** Look for due deliveries now (after a publish or a finished attempt). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.round()
      .catch((err: unknown) => this.logger?.error({ err }, "webhook dispatcher round failed; retrying at the next poll"))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops claiming and waits for the attempts in flight (each bounded by the sender's time limit). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  private async round(): Promise<void> {
    const free = this.options.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const now = new Date();
    const leaseUntil = new Date(now.getTime() + this.options.timeoutMs + LEASE_MARGIN_MS);
    // Across organisations on purpose: the dispatcher serves every tenant, and touches only rows it claimed.
    const claimed = await this.database
      .fork()
      .getConnection()
      .execute<Array<{ id: string }>>(
        `update "webhook_deliveries" set "next_attempt_at" = ?, "updated_at" = ?
          where "id" in (select "id" from "webhook_deliveries"
                          where "status" in ('pending', 'retrying') and "next_attempt_at" <= ?
                          order by "next_attempt_at" limit ? for update skip locked)
          returning "id"`,
        [leaseUntil, now, now, free],
      );
    for (const { id } of claimed) {
      const attempt = this.attempt(id)
        .catch((err: unknown) => this.logger?.error({ err, delivery_id: id }, "webhook attempt failed to record; it is retried when its claim lapses"))
        .finally(() => {
          this.inFlight.delete(attempt);
          this.wake();
        });
      this.inFlight.add(attempt);
    }
  }

  private async attempt(id: string): Promise<void> {
    const em = this.database.fork();
    // Unfiltered: a delivery whose webhook was deleted must be found, to be settled rather than reclaimed forever.
    const delivery = await em.findOne(WebhookDelivery, { id }, { filters: { notDeleted: false } });
    if (!delivery || (delivery.status !== "pending" && delivery.status !== "retrying")) return;
    const endpoint = await em.findOne(WebhookEndpoint, { id: delivery.endpoint.id }, { filters: { notDeleted: false } });
    if (!endpoint || endpoint.deletedAt || !endpoint.active) {
      await em.nativeUpdate(WebhookDelivery, { id, status: { $in: ["pending", "retrying"] } }, { status: "failed", nextAttemptAt: null, lastError: "webhook deleted" });
      return;
    }
    let secrets: string[];
    try {
      secrets = [this.secrets.open(endpoint.secretEncrypted)];
      if (endpoint.previousSecretEncrypted && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date()) {
        secrets.push(this.secrets.open(endpoint.previousSecretEncrypted));
      }
    } catch (err) {
      // Retrying cannot help: the key that sealed the secret is gone. Rotating the secret mends the webhook.
      this.logger?.error({ err, webhook_id: endpoint.id }, "webhook secret cannot be opened; was WEBHOOK_SECRET_KEY changed?");
      await em.nativeUpdate(WebhookDelivery, { id, status: { $in: ["pending", "retrying"] } }, { status: "failed", nextAttemptAt: null, lastError: "signing secret unreadable; rotate the webhook's secret" });
      return;
    }
    const body = JSON.stringify(delivery.payload);
    const startedAt = new Date();
    const result = await this.sender.send(endpoint.url, { ...signWebhook(secrets, delivery.eventId, body, startedAt) }, body);
    this.metrics.duration.observe((Date.now() - startedAt.getTime()) / 1000);
    const attempts = delivery.attempts + 1;
    const succeeded = result.status >= 200 && result.status < 300;
    const outOfAttempts = attempts >= this.options.maxAttempts;
    const status = succeeded ? "delivered" : outOfAttempts ? "failed" : "retrying";
    await em.nativeUpdate(
      WebhookDelivery,
      // Only if nobody settled it meanwhile (the webhook deleted, say).
      { id, status: { $in: ["pending", "retrying"] } },
      {
        status,
        attempts,
        lastAttemptAt: startedAt,
        responseStatus: result.status || null,
        lastError: result.error || null,
        nextAttemptAt: status === "retrying" ? new Date(Date.now() + retryDelayMs(attempts, this.options.retryBaseMs)) : null,
      },
    );
    this.metrics.attempts.inc({ outcome: status });
    this.logger?.info(
      { delivery_id: id, event_id: delivery.eventId, org_id: delivery.organization.id, attempt: attempts, status_code: result.status, outcome: status, error: result.error || undefined },
      "webhook attempt",
    );
  }
}
