import { randomUUID } from "node:crypto";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../services/platform/logger.js";
import { requestContextKey } from "../../services/platform/request-context.js";

export { requestContextOf, type RequestContext } from "../../services/platform/request-context.js";

export const REQUEST_ID_HEADER = "x-request-id";
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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
