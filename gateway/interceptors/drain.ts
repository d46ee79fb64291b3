import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** While the server drains, RPCs that arrive on connections still open are refused as retryable. */
export function drainInterceptor(isDraining: () => boolean): Interceptor {
  return (next) => async (req) => {
    if (isDraining()) throw new ConnectError("server is shutting down; retry on another replica", Code.Unavailable);
    return next(req);
  };
}
