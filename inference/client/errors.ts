// How inference failures reach the domain: each gRPC status the platform acts on becomes the
// domain error of the same kind (services/errors), so the gateway's one error mapper turns it
// into the right code; the gRPC code, model and server address ride along for logs and metrics.
// Codes that say nothing useful to an API client (INTERNAL, UNKNOWN, DATA_LOSS, ...) become
// InferenceInternalError, which is not a DomainError and so reaches clients only as INTERNAL.
import { status as Status } from "@grpc/grpc-js";
import {
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  UnimplementedError,
} from "../../services/platform/errors/errors.js";

export { Status };

/** Where a failure came from. */
export interface InferenceFailureContext {
  /** The model of the request, when the RPC names one. */
  model?: string;
  /** The server address of the last attempt, when one was made. */
  address?: string;
}

/** The server, or every server, cannot take the request now (down, restarting, circuit open, model not loaded). */
export class InferenceUnavailableError extends UnavailableError {
  readonly code = Status.UNAVAILABLE;
  constructor(
    message: string,
    readonly context: InferenceFailureContext = {},
  ) {
    super(message);
  }
}

/** The server does not know the model. */
export class InferenceNotFoundError extends NotFoundError {
  readonly code = Status.NOT_FOUND;
  constructor(
    model: string,
    readonly details: string,
    readonly context: InferenceFailureContext = {},
  ) {
    super("inference model", model);
  }
}

/** The server rejected an input; `field` names the tensor (or "inputs" when the server did not say which). */
export class InferenceInvalidArgumentError extends InvalidArgumentError {
  readonly code = Status.INVALID_ARGUMENT;
  constructor(
    tensor: string,
    reason: string,
    readonly context: InferenceFailureContext = {},
  ) {
    super(tensor, reason);
  }
}

export class InferenceDeadlineExceededError extends DeadlineExceededError {
  readonly code = Status.DEADLINE_EXCEEDED;
  constructor(
    message: string,
    readonly context: InferenceFailureContext = {},
  ) {
    super(message);
  }
}

export class InferenceResourceExhaustedError extends ResourceExhaustedError {
  readonly code = Status.RESOURCE_EXHAUSTED;
  constructor(
    message: string,
    readonly context: InferenceFailureContext = {},
  ) {
    super(message);
  }
}

/** The model exists but does not have the tensors the client relies on, or the server refused for its state. */
export class InferenceFailedPreconditionError extends FailedPreconditionError {
  readonly code = Status.FAILED_PRECONDITION;
  constructor(
    message: string,
    readonly context: InferenceFailureContext = {},
  ) {
    super(message);
  }
}

export class InferenceUnimplementedError extends UnimplementedError {
  readonly code = Status.UNIMPLEMENTED;
  constructor(
    message: string,
    readonly context: InferenceFailureContext = {},
  ) {
    super(message);
  }
}

/** Any other failure, including a response the client cannot decode; an internal error, never shown to API clients as written. */
export class InferenceInternalError extends Error {
  override readonly name = "InferenceInternalError";
  constructor(
    readonly code: Status,
    message: string,
    readonly context: InferenceFailureContext = {},
  ) {
    super(message);
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

const failureClasses = [
  InferenceUnavailableError,
  InferenceNotFoundError,
  InferenceInvalidArgumentError,
  InferenceDeadlineExceededError,
  InferenceResourceExhaustedError,
  InferenceFailedPreconditionError,
  InferenceUnimplementedError,
  InferenceInternalError,
];

export function isInferenceFailure(err: unknown): err is InferenceFailure {
  return failureClasses.some((c) => err instanceof c);
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
