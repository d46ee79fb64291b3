import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { DomainError, ResourceExhaustedError, type DomainErrorKind } from "../../services/platform/errors/errors.js";
import { mapStream } from "./streams.js";
import { requestContextOf } from "../../services/platform/request-context.js";
import type { Logger } from "../../services/platform/logger.js";

const codeOfKind: Record<DomainErrorKind, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  permission_denied: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  failed_precondition: Code.FailedPrecondition,
  resource_exhausted: Code.ResourceExhausted,
  aborted: Code.Aborted,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
  unimplemented: Code.Unimplemented,
};

// An absolute filesystem path: a slash that starts a word (not one inside a MIME type, a fraction or a URL),
// then at least two segments. "/tmp/x/whisper", "/work/app/node_modules/a.js"; not "audio/wav", not
// "https://host/path", not "1/2".
const SERVER_PATH = /(?<![\w.:/\\-])\/(?:[^\s/"'`,;()<>]+\/)+[^\s/"'`,;()<>]*/g;

/**
 * A message a client may see, without the server's filesystem paths. Domain messages are written to be safe,
 * but some carry text from below (a model server's reason, a tool's stderr); a path there says how the server
 * is laid out and helps no client. What was removed goes to the log, so the message can be fixed where it is made.
 */
export function clientSafeMessage(message: string, logger: Logger): string {
  const safe = message.replace(SERVER_PATH, "<server path>");
  if (safe !== message) logger.warn({ message }, "a server path was removed from an error message to a client");
  return safe;
}

/**
 * The one path out for errors: typed domain errors become their Connect code with their
 * (client-safe) message; anything else is logged with its stack and reaches the client
 * only as INTERNAL with the request id to quote.
 */
export function toConnectError(err: unknown, requestId: string, logger: Logger): ConnectError {
  if (err instanceof ConnectError) {
    if (err.code === Code.Internal || err.code === Code.Unknown) {
      logger.error({ err }, "internal error");
      return new ConnectError(`internal error (request id ${requestId})`, Code.Internal);
    }
    const safe = clientSafeMessage(err.rawMessage, logger);
    if (safe === err.rawMessage) return err;
    const scrubbed = new ConnectError(safe, err.code, err.metadata);
    scrubbed.details.push(...err.details);
    return scrubbed;
  }
  if (err instanceof DomainError) {
    const mapped = new ConnectError(clientSafeMessage(err.message, logger), codeOfKind[err.kind]);
    if (err instanceof ResourceExhaustedError && err.retryAfterSeconds !== undefined) {
      mapped.metadata.set("retry-after", String(Math.ceil(err.retryAfterSeconds)));
    }
    return mapped;
  }
  logger.error({ err }, "internal error");
  return new ConnectError(`internal error (request id ${requestId})`, Code.Internal);
}

export function errorMapperInterceptor(): Interceptor {
  return (next) => async (req) => {
    const { requestId, logger } = requestContextOf(req.contextValues);
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return {
        ...res,
        message: mapStream(res.message, {
          onError: (err) => toConnectError(err, requestId, logger),
        }),
      };
    } catch (err) {
      throw toConnectError(err, requestId, logger);
    }
  };
}
