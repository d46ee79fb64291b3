// One HTTP attempt of a delivery: a POST with the signed headers, through the target guard, within a
// time limit, no redirects followed, the response body read (bounded) and dropped.
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { TargetRefusedError, type TargetGuard } from "./target-guard.js";

export interface AttemptResult {
  /** HTTP status; 0 when no response came. */
  status: number;
  /** Empty on a 2xx; otherwise what went wrong, for the delivery log. */
  error: string;
}

export interface WebhookSender {
  send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult>;
}

/** How much of a response is read before the connection is dropped; receivers need only answer 2xx. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class HttpWebhookSender implements WebhookSender {
  constructor(
    private readonly guard: TargetGuard,
    private readonly options: {
      timeoutMs: number;
      /** Extra trusted CA certificates (PEM), e.g. a private CA in a closed network, or a test's. */
      ca?: string | string[];
    },
  ) {}

  async send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, "");
    // Node skips `lookup` for IP literals, so those are checked here.
    if (isIP(host)) {
      const refused = this.guard.refusal(host);
      if (refused) return { status: 0, error: new TargetRefusedError(refused).message };
    }
    const seconds = `${this.options.timeoutMs / 1000}s`;
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const request = (target.protocol === "https:" ? https : http).request(target, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "arabicstt-webhooks/1" },
        lookup: this.guard.lookup,
        ca: this.options.ca,
        agent: false,
      });
      // One timer for the whole attempt: connect, TLS, send, response headers.
      const timer = setTimeout(() => {
        finish({ status: 0, error: `timeout after ${seconds}` });
        request.destroy();
      }, this.options.timeoutMs);
      request.on("response", (response) => {
        const status = response.statusCode ?? 0;
        let read = 0;
        response.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) response.destroy();
        });
        // A receiver that drops the connection after its status line has still answered.
        response.on("error", () => undefined);
        // The status decides; the body is only drained so the connection can close cleanly.
        finish(status >= 200 && status < 300 ? { status, error: "" } : { status, error: `HTTP ${status}` });
        response.resume();
      });
      request.on("error", (err: NodeJS.ErrnoException) => {
        const reason = err instanceof TargetRefusedError ? err.message : `${err.code ?? "error"}: ${err.message}`;
        finish({ status: 0, error: reason });
      });
      request.end(body);
    });
  }
}
