import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { GatewayMetrics } from "./metrics.js";
import { requestContextOf } from "../../services/platform/request-context.js";
import { mapStream } from "./streams.js";

/** Counts the RPCs in flight so that a draining server knows when it may stop. */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];
  get size(): number {
    return this.count;
  }
  enter(): void {
    this.count++;
  }
  leave(): void {
    this.count--;
    if (this.count === 0) this.waiters.splice(0).forEach((wake) => wake());
  }
  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** The code's gRPC name in lower snake case: "ok", "invalid_argument", "cancelled" (Connect spells it "canceled"). */
function codeName(err: unknown): string {
  if (err === undefined) return "ok";
  const code = err instanceof ConnectError ? err.code : Code.Internal;
  if (code === Code.Canceled) return "cancelled";
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/**
 * Whether the client's side of an RPC is gone: it cancelled (HTTP/2 RST_STREAM) or its connection dropped.
 * The server (gateway/server.ts) puts a probe of the HTTP stream here for every request; the default says no.
 */
export const clientGoneKey = createContextKey<() => boolean>(() => false, { description: "whether the client's side of the RPC is gone" });

/**
 * One log line and one metric sample per RPC, at its end: unary when the handler
 * returns, streams when the response stream finishes however it finishes.
 * An RPC whose client went away before its end counts as "cancelled", whatever the handler made of it: a
 * stream the client reset usually just stops being read and ends without an error, which would read "ok".
 * (The handler's signal is no help here: connect-node aborts it on the request's "close" event, which can
 * come after the stream has already wound down.)
 */
export function observeInterceptor(metrics: GatewayMetrics, inFlight: InFlight): Interceptor {
  return (next) => async (req) => {
    const { logger } = requestContextOf(req.contextValues);
    const labels = { service: req.service.typeName, method: req.method.name };
    const clientGone = req.contextValues.get(clientGoneKey);
    const started = process.hrtime.bigint();
    const streaming = req.method.methodKind !== "unary";
    let responses = 0;
    inFlight.enter();
    if (streaming) metrics.activeStreams.inc(labels);
    const finish = (err?: unknown) => {
      if (streaming) metrics.activeStreams.dec(labels);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const code = clientGone() ? "cancelled" : codeName(err);
      metrics.rpcRequests.inc({ ...labels, code });
      metrics.rpcDuration.observe(labels, seconds);
      const line = { code, duration_ms: Math.round(seconds * 1e4) / 10, ...(res?.stream ? { responses } : {}) };
      // The client's own choice (or its network's): not a failure of ours.
      if (code === "cancelled") logger.info({ ...line, ...(err === undefined ? {} : { error: err instanceof Error ? err.message : String(err) }) }, "rpc cancelled");
      else if (err === undefined) logger.info(line, "rpc");
      else if (code === "internal" || code === "unknown") logger.error({ ...line, err }, "rpc failed");
      else logger.warn({ ...line, error: err instanceof Error ? err.message : String(err) }, "rpc failed");
      inFlight.leave();
    };
    let res: Awaited<ReturnType<typeof next>> | undefined;
    try {
      res = await next(req);
    } catch (err) {
      finish(err);
      throw err;
    }
    if (!res.stream) {
      finish();
      return res;
    }
    return {
      ...res,
      message: mapStream(res.message, {
        each: () => void responses++,
        onEnd: finish,
      }),
    };
  };
}
