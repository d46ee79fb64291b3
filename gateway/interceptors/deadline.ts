import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Unary RPCs get a server-side deadline when the client set none (or a longer one):
 * a stuck dependency then costs a DEADLINE_EXCEEDED, not a connection held forever.
 * Streams are bounded by their own limits (idle timeout, maximum length) instead.
 * Clients' own deadlines are enforced by the transport (grpc-timeout / connect-timeout-ms: connect-node,
 * and the lean gRPC path of gateway/transport/grpc-bidi.ts with connect's parseTimeout) and capped by
 * the maxTimeoutMs option both take.
 */
export function deadlineInterceptor(unaryDeadlineMs: number): Interceptor {
  return (next) => async (req) => {
    if (req.method.methodKind !== "unary") return next(req);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ConnectError(`deadline of ${unaryDeadlineMs} ms exceeded`, Code.DeadlineExceeded)),
        unaryDeadlineMs,
      );
    });
    try {
      return await Promise.race([next(req), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
