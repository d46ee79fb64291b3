import { randomUUID } from "node:crypto";
import { ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../services/platform/logger.js";

export interface RequestContext {
  /** Taken from the client's x-request-id when it is sane, else generated. Echoed back in headers. */
  requestId: string;
  /** A child logger that stamps request_id, service and method on every line. */
  logger: Logger;
}

export const requestContextKey = createContextKey<RequestContext | undefined>(undefined, {
  description: "request id and logger of the current RPC",
});

export const REQUEST_ID_HEADER = "x-request-id";
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Reads the request id of the RPC the interceptor chain is handling. */
export function requestContextOf(values: { get: <T>(key: { id: symbol; defaultValue: T }) => T }): RequestContext {
  const ctx = values.get(requestContextKey);
  if (!ctx) throw new Error("request context interceptor is not installed");
  return ctx;
}

/** Outermost interceptor: assigns the request id and echoes it on success and on error. */
export function requestContextInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const offered = req.header.get(REQUEST_ID_HEADER);
    const requestId = offered && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
    req.contextValues.set(requestContextKey, {
      requestId,
      logger: logger.child({ request_id: requestId, rpc_service: req.service.typeName, rpc_method: req.method.name }),
    });
    try {
      const res = await next(req);
      res.header.set(REQUEST_ID_HEADER, requestId);
      return res;
    } catch (err) {
      if (err instanceof ConnectError) err.metadata.set(REQUEST_ID_HEADER, requestId);
      throw err;
    }
  };
}
