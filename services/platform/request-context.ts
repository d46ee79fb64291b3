// What every RPC knows about itself: its request id and a logger that stamps it. The gateway's
// request-context interceptor fills it in; handlers read it with `requestContextOf`.
import { createContextKey } from "@connectrpc/connect";
import type { Logger } from "./logger.js";

export interface RequestContext {
  /** Taken from the client's x-request-id when it is sane, else generated. Echoed back in headers. */
  requestId: string;
  /** A child logger that stamps request_id, service and method on every line. */
  logger: Logger;
}

export const requestContextKey = createContextKey<RequestContext | undefined>(undefined, {
  description: "request id and logger of the current RPC",
});

/** Reads the request id of the RPC the interceptor chain is handling. */
export function requestContextOf(values: { get: <T>(key: { id: symbol; defaultValue: T }) => T }): RequestContext {
  const ctx = values.get(requestContextKey);
  if (!ctx) throw new Error("request context interceptor is not installed");
  return ctx;
}
