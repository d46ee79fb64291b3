// One server span per RPC, continuing the trace of the request's W3C `traceparent` (gRPC metadata and HTTP
// headers alike: Connect hands both over as headers). The handler runs with the span active, so what it
// calls (the job queue, the inference client) and every log line it writes (trace_id, span_id) belong to
// the trace. With tracing off the API's no-op tracer makes this a few calls that record nothing.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { ATTR_RPC_METHOD, ATTR_RPC_STATUS_CODE, ATTR_RPC_SYSTEM_NAME, RPC_SYSTEM_NAME_VALUE_GRPC } from "@opentelemetry/semantic-conventions";
import { context, contextFromCarrier, failSpan, isServerError, SpanKind, trace, tracerOf, type Context } from "../../inference/telemetry/spans.js";
import { requestContextOf } from "../../services/platform/request-context.js";
import { clientGoneKey } from "./observe.js";
import { mapStream } from "./streams.js";

/** Headers as a propagation carrier. */
const headersGetter = {
  keys: (headers: Headers) => [...headers.keys()],
  get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
};

/**
 * Inside the request-context interceptor (the span carries the request id) and outside the observer (its
 * "rpc" line is written inside the span). The span ends when the RPC does: a unary call when the handler
 * returns, a stream when its response stream finishes.
 */
export function tracingInterceptor(): Interceptor {
  const tracer = tracerOf("arabicstt.gateway");
  return (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    const parent = contextFromCarrier(req.header, headersGetter);
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_RPC_SYSTEM_NAME]: RPC_SYSTEM_NAME_VALUE_GRPC,
          [ATTR_RPC_METHOD]: method,
          // The conventions before rpc.method took the service in: what many trace backends still group by.
          "rpc.service": req.service.typeName,
          "arabicstt.request_id": requestContextOf(req.contextValues).requestId,
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    const clientGone = req.contextValues.get(clientGoneKey);
    const end = (err?: unknown) => {
      const code = clientGone() ? Code.Canceled : err === undefined ? 0 : err instanceof ConnectError ? err.code : Code.Internal;
      span.setAttribute(ATTR_RPC_STATUS_CODE, statusName(code));
      span.setAttribute("rpc.grpc.status_code", code);
      if (isServerError(code)) failSpan(span, err ?? new Error(statusName(code)));
      span.end();
    };
    let res;
    try {
      res = await context.with(active, () => next(req));
    } catch (err) {
      end(err);
      throw err;
    }
    if (!res.stream) {
      end();
      return res;
    }
    return { ...res, message: inContext(active, mapStream(res.message, { onEnd: end })) };
  };
}

/** The gRPC name of a code: "OK", "INVALID_ARGUMENT", "CANCELLED". */
function statusName(code: Code | 0): string {
  if (code === 0) return "OK";
  if (code === Code.Canceled) return "CANCELLED";
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * The stream with each step of its iteration run in `ctx`: connect-node pulls a response stream from its own
 * callbacks, outside the context the handler was called in, and the handler's generator body (and the
 * observer's last line) runs on those pulls.
 */
function inContext<T>(ctx: Context, source: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const inner = source[Symbol.asyncIterator]();
      return {
        next: () => context.with(ctx, () => inner.next()),
        return: (value?: unknown) => context.with(ctx, async () => (inner.return ? inner.return(value) : { done: true as const, value: value as T })),
      };
    },
  };
}
