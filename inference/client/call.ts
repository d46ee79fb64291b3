// One RPC under the client's policy: attempts on addresses picked round-robin past open breakers,
// one deadline for all of them, and a retry (with backoff) only after a failure to reach a server,
// or after UNAVAILABLE from a server while another address is left to try. The policy itself is
// described at the top of client.ts. Each call is one client span; every attempt sends that span's trace
// context in its gRPC metadata (`traceparent`), so the server's span is its child.
import * as grpc from "@grpc/grpc-js";
import { ATTR_RPC_METHOD, ATTR_RPC_STATUS_CODE, ATTR_RPC_SYSTEM_NAME, ATTR_SERVER_ADDRESS, RPC_SYSTEM_NAME_VALUE_GRPC } from "@opentelemetry/semantic-conventions";
import { context, inSpan, injectTrace, metadataSetter, SpanKind, tracerOf, type Span } from "../telemetry/spans.js";
import type { InferenceMethodName } from "../kserve/service.js";
import type { Logger } from "../logger.js";
import { backoffDelayMs, sleep, type RetryOptions } from "./backoff.js";
import { attempt, AttemptFailure, type Endpoint, type EndpointPool } from "./endpoints.js";
import { codeName, failureFromStatus, InferenceUnavailableError, Status, type InferenceFailureContext } from "./errors.js";
import type { InferenceMetrics } from "./metrics.js";

export interface CallContext extends InferenceFailureContext {
  /** Tensor names an INVALID_ARGUMENT message may mention. */
  tensorNames?: readonly string[];
  /**
   * Calls with the same affinity go to the same address while its breaker lets them through (a
   * sequence's state lives on the server that started it).
   */
  affinity?: number;
  /**
   * One attempt only: a call whose effect must not happen twice (a sequence's continuation: a
   * retry after a lost response would feed the model the same audio again).
   */
  once?: boolean;
}

/** One RPC with retries; rejects with the typed inference error of the last attempt. */
export type Call = <Res>(method: InferenceMethodName, request: object, deadline: number, signal: AbortSignal | undefined, context: CallContext) => Promise<Res>;

export interface CallPolicy {
  pool: EndpointPool;
  retry: RetryOptions;
  metrics: InferenceMetrics;
  logger?: Logger;
  /** True once the client is closed: calls then fail at once. */
  isClosed(): boolean;
}

const tracer = tracerOf("arabicstt.inference-client");

export function retryingCall(policy: CallPolicy): Call {
  const attempts = attemptsOf(policy);
  return function call<Res>(method: InferenceMethodName, request: object, deadline: number, signal: AbortSignal | undefined, callContext: CallContext): Promise<Res> {
    const rpcMethod = `inference.GRPCInferenceService/${method}`;
    const attributes = { [ATTR_RPC_SYSTEM_NAME]: RPC_SYSTEM_NAME_VALUE_GRPC, [ATTR_RPC_METHOD]: rpcMethod, ...(callContext.model ? { "inference.model": callContext.model } : {}) };
    return inSpan(tracer, rpcMethod, { kind: SpanKind.CLIENT, attributes }, (span) => attempts<Res>(method, request, deadline, signal, callContext, span));
  };
}

/** The attempts of one call, recorded on its span: the address of each, a retry as an event, the outcome. */
function attemptsOf(policy: CallPolicy) {
  const { pool, retry, metrics, logger } = policy;
  return async function attempts<Res>(method: InferenceMethodName, request: object, deadline: number, signal: AbortSignal | undefined, context: CallContext, span: Span): Promise<Res> {
    if (policy.isClosed()) throw new InferenceUnavailableError("inference client is closed", context);
    const tried = new Set<Endpoint>();
    let last: { failure: AttemptFailure; address: string } | undefined;
    for (let attemptNumber = 1; ; attemptNumber++) {
      signal?.throwIfAborted();
      const endpoint = pool.pick(tried, context.affinity);
      if (!endpoint) {
        const why = last ? `; last error from ${last.address}: ${last.failure.details}` : "";
        const addresses = pool.endpoints.map((e) => e.address).join(", ");
        throw new InferenceUnavailableError(`no inference server reachable (circuit open for ${addresses})${why}`, { ...context, address: last?.address });
      }
      tried.add(endpoint);
      span.setAttribute(ATTR_SERVER_ADDRESS, endpoint.address);
      let failure: AttemptFailure;
      try {
        const response = await attempt<Res>(endpoint, method, request, deadline, signal, tracedMetadata());
        endpoint.breaker.success();
        metrics.attempts.inc({ address: endpoint.address, outcome: "ok" });
        span.setAttribute(ATTR_RPC_STATUS_CODE, "OK");
        return response;
      } catch (err) {
        if (!(err instanceof AttemptFailure)) {
          endpoint.breaker.release();
          throw err;
        }
        failure = err;
      }
      last = { failure, address: endpoint.address };
      span.setAttribute(ATTR_RPC_STATUS_CODE, grpc.status[failure.code] ?? String(failure.code));
      const failed = { ...context, address: endpoint.address };
      // UNAVAILABLE from a server is retried only on another address.
      const retryable = recordFailure(endpoint, failure, signal, metrics) && (!failure.serverAnswered || pool.hasUntried(tried));
      const wait = backoffDelayMs(attemptNumber, retry);
      if (!retryable || context.once || attemptNumber >= retry.maxAttempts || Date.now() + wait >= deadline) {
        throw failureFromStatus(failure.code, failure.details, failed, context.tensorNames);
      }
      logger?.debug({ ...failed, method, attempt: attemptNumber, code: codeName(failure.code), waitMs: Math.round(wait) }, "retrying inference call");
      span.addEvent("retry", { "server.address": endpoint.address, "rpc.status_code": grpc.status[failure.code] ?? String(failure.code), "retry.wait_ms": Math.round(wait) });
      await sleep(wait, signal);
    }
  };
}

/** Metadata carrying the active span's trace context (`traceparent`); empty when tracing is off. */
function tracedMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  injectTrace(context.active(), metadata, metadataSetter);
  return metadata;
}

/**
 * Tells the address's breaker and the metrics what a failed attempt says about the server, and
 * whether its kind of failure is worth another attempt. A call the caller cancelled ends here,
 * with the signal's reason.
 */
function recordFailure(endpoint: Endpoint, failure: AttemptFailure, signal: AbortSignal | undefined, metrics: InferenceMetrics): boolean {
  const address = endpoint.address;
  if (signal?.aborted) {
    endpoint.breaker.release();
    metrics.attempts.inc({ address, outcome: "cancelled" });
    throw signal.reason;
  }
  if (failure.serverAnswered) {
    // The server was reached, so its breaker counts a success; only its UNAVAILABLE (model not
    // loaded, queue full) is worth another attempt.
    endpoint.breaker.success();
    metrics.attempts.inc({ address, outcome: "server_error" });
    return failure.code === Status.UNAVAILABLE;
  }
  if (failure.code === Status.UNAVAILABLE) {
    endpoint.breaker.failure();
    metrics.attempts.inc({ address, outcome: "transport_error" });
    return true;
  }
  // Deadline, or a local limit (message too large): nothing learned about the server.
  endpoint.breaker.release();
  metrics.attempts.inc({ address, outcome: "transport_error" });
  return false;
}
