// Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with the HTTP status its
// SDKs turn into their error classes (400 BadRequestError, 401 AuthenticationError, 403
// PermissionDeniedError, 404 NotFoundError, 413, 429 RateLimitError, 5xx InternalServerError). What comes
// back from the platform's RPCs is already a client-safe ConnectError (the error mapper ran); this only
// picks the status, the type and the parameter it names.
import type { ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";

export interface OpenAiError {
  status: number;
  message: string;
  type: string;
  param: string | null;
  code: string | null;
  /** Seconds, for a 429 the platform gave a wait for. */
  retryAfter?: string;
}

/** An error this adapter raises itself (a bad form field, an unknown model). */
export class OpenAiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

const statusOfCode: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.FailedPrecondition]: 400,
  [Code.OutOfRange]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.Aborted]: 409,
  [Code.ResourceExhausted]: 429,
  [Code.Canceled]: 499,
  [Code.Unimplemented]: 501,
  [Code.Unavailable]: 503,
  [Code.DeadlineExceeded]: 504,
};

/** The platform's request fields, as the form field a client of this API sent them in. */
const paramOfField: Array<[RegExp, string]> = [
  [/^config\.model\b/, "model"],
  [/^config\.language_code\b/, "language"],
  [/^(content|config\.(encoding|sample_rate_hz|audio_channel_count))\b/, "file"],
];

export function openAiErrorOf(err: unknown, requestId: string): OpenAiError {
  if (err instanceof OpenAiRequestError) {
    return { status: err.status, message: err.message, type: err.status >= 500 ? "server_error" : "invalid_request_error", param: err.param, code: err.code };
  }
  const connect = err instanceof ConnectError ? err : undefined;
  if (!connect || connect.code === Code.Internal || connect.code === Code.Unknown) {
    return { status: 500, message: `internal error (request id ${requestId})`, type: "server_error", param: null, code: null };
  }
  const message = connect.rawMessage;
  const param = paramOfField.find(([pattern]) => pattern.test(message))?.[1] ?? null;
  // The catalog names a model it does not have; OpenAI answers that with 404 model_not_found.
  if (connect.code === Code.InvalidArgument && param === "model" && /unknown model/.test(message)) {
    return { status: 404, message, type: "invalid_request_error", param, code: "model_not_found" };
  }
  const status = statusOfCode[connect.code] ?? 500;
  switch (status) {
    case 401:
      return { status, message, type: "invalid_request_error", param: null, code: "invalid_api_key" };
    case 429:
      return { status, message, type: "rate_limit_error", param: null, code: "rate_limit_exceeded", retryAfter: connect.metadata.get("retry-after") ?? undefined };
    default:
      return { status, message, type: status >= 500 ? "server_error" : "invalid_request_error", param, code: null };
  }
}

export function sendOpenAiError(res: ServerResponse, error: OpenAiError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { "Content-Type": "application/json", "Cache-Control": "no-store", "x-request-id": requestId };
  if (error.retryAfter) headers["Retry-After"] = error.retryAfter;
  res.writeHead(error.status, headers).end(JSON.stringify({ error: { message: error.message, type: error.type, param: error.param, code: error.code } }));
}
