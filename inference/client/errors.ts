// How inference failures reach callers: each gRPC status the platform acts on becomes an error
// class of its own, carrying the gRPC code, the model and the server address for logs and metrics.
// Inference depends on no caller's error types: the process that opens the client translates these
// into its own (services/platform/inference.ts turns them into the domain errors of the same kind,
// which the gateway's error mapper turns into Connect codes). Codes that say nothing useful to an
// API client (INTERNAL, UNKNOWN, DATA_LOSS, ...) become InferenceInternalError.
import { status as Status } from "@grpc/grpc-js";

export { Status };

/** Where a failure came from. */
export interface InferenceFailureContext {
  /** The model of the request, when the RPC names one. */
  model?: string;
  /** The server address of the last attempt, when one was made. */
  address?: string;
}

/** Every failure of an inference call; `message` is safe to show an API client except for InferenceInternalError. */
export abstract class InferenceError extends Error {
  abstract readonly code: Status;
  constructor(
    message: string,
    readonly context: InferenceFailureContext = {},
  ) {
    super(message);
  }
}

/** The server, or every server, cannot take the request now (down, restarting, circuit open, model not loaded). */
export class InferenceUnavailableError extends InferenceError {
  readonly code = Status.UNAVAILABLE;
}

/** The server does not know the model. */
export class InferenceNotFoundError extends InferenceError {
  readonly code = Status.NOT_FOUND;
  constructor(
    /** The model asked for (the server's message when the RPC names none). */
    readonly model: string,
    readonly details: string,
    context: InferenceFailureContext = {},
  ) {
    super(`inference model ${model} not found`, context);
  }
}

/** The server rejected an input; `field` names the tensor (or "inputs" when the server did not say which). */
export class InferenceInvalidArgumentError extends InferenceError {
  readonly code = Status.INVALID_ARGUMENT;
  constructor(
    readonly field: string,
    readonly reason: string,
    context: InferenceFailureContext = {},
  ) {
    super(`${field}: ${reason}`, context);
  }
}

export class InferenceDeadlineExceededError extends InferenceError {
  readonly code = Status.DEADLINE_EXCEEDED;
}

export class InferenceResourceExhaustedError extends InferenceError {
  readonly code = Status.RESOURCE_EXHAUSTED;
}

/** The model exists but does not have the tensors the client relies on, or the server refused for its state. */
export class InferenceFailedPreconditionError extends InferenceError {
  readonly code = Status.FAILED_PRECONDITION;
}

export class InferenceUnimplementedError extends InferenceError {
  readonly code = Status.UNIMPLEMENTED;
}

/** Any other failure, including a response the client cannot decode; an internal error, never shown to API clients as written. */
export class InferenceInternalError extends InferenceError {
  override readonly name = "InferenceInternalError";
  constructor(
    readonly code: Status,
    message: string,
    context: InferenceFailureContext = {},
  ) {
    super(message, context);
  }
}

export type InferenceFailure =
  | InferenceUnavailableError
  | InferenceNotFoundError
  | InferenceInvalidArgumentError
  | InferenceDeadlineExceededError
  | InferenceResourceExhaustedError
  | InferenceFailedPreconditionError
  | InferenceUnimplementedError
  | InferenceInternalError;

export function isInferenceFailure(err: unknown): err is InferenceFailure {
  return err instanceof InferenceError;
}

/** Lower-case name of a gRPC code, as metrics label it ("unavailable", "invalid_argument"). */
export function codeName(code: Status): string {
  return (Status[code] ?? "unknown").toLowerCase();
}

/**
 * The typed error for a gRPC status the server (or grpc-js) returned. For INVALID_ARGUMENT the
 * tensor is the first of `tensorNames` the message mentions: the sidecar and Triton both name
 * the offending tensor in the message, neither in a structured field.
 */
export function failureFromStatus(
  code: Status,
  details: string,
  context: InferenceFailureContext,
  tensorNames: readonly string[] = [],
): InferenceFailure {
  const model = context.model;
  const subject = model ? `inference model ${model}` : "inference server";
  switch (code) {
    case Status.UNAVAILABLE:
      return new InferenceUnavailableError(`${subject} unavailable: ${details}`, context);
    case Status.NOT_FOUND:
      return new InferenceNotFoundError(model ?? details, details, context);
    case Status.INVALID_ARGUMENT:
    case Status.OUT_OF_RANGE:
      return new InferenceInvalidArgumentError(tensorNamed(details, tensorNames) ?? "inputs", details, context);
    case Status.DEADLINE_EXCEEDED:
      return new InferenceDeadlineExceededError(`${subject}: deadline exceeded (${details})`, context);
    case Status.RESOURCE_EXHAUSTED:
      return new InferenceResourceExhaustedError(`${subject} overloaded: ${details}`, context);
    case Status.FAILED_PRECONDITION:
      return new InferenceFailedPreconditionError(`${subject}: ${details}`, context);
    case Status.UNIMPLEMENTED:
      return new InferenceUnimplementedError(`${subject}: ${details}`, context);
    default:
      return new InferenceInternalError(code, `${subject} failed with ${Status[code] ?? code}: ${details}`, context);
  }
}

function tensorNamed(details: string, names: readonly string[]): string | undefined {
  let best: { name: string; at: number } | undefined;
  for (const name of names) {
    const at = new RegExp(`(^|[^A-Za-z0-9_])${name.replace(/[^A-Za-z0-9_]/g, "\\$&")}($|[^A-Za-z0-9_])`).exec(details)?.index;
    if (at !== undefined && (!best || at < best.at)) best = { name, at };
  }
  return best?.name;
}
