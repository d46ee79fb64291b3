// Typed errors the domain throws. They carry a message that is safe to show a client;
// the gateway's error mapper turns each kind into a Connect/gRPC code. Anything that is
// not a DomainError is an internal failure and never reaches the client as written.

export type DomainErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "unauthenticated"
  | "failed_precondition"
  | "resource_exhausted"
  | "aborted"
  | "unavailable"
  | "deadline_exceeded"
  | "unimplemented";

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
}

/** The request is malformed; `field` names the offending field (proto field path). */
export class InvalidArgumentError extends DomainError {
  readonly kind = "invalid_argument";
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** The resource does not exist, or the caller may not know that it exists. */
export class NotFoundError extends DomainError {
  readonly kind = "not_found";
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${id} not found`);
  }
}

export class AlreadyExistsError extends DomainError {
  readonly kind = "already_exists";
}

export class PermissionDeniedError extends DomainError {
  readonly kind = "permission_denied";
}

export class UnauthenticatedError extends DomainError {
  readonly kind = "unauthenticated";
}

/** The system is not in a state the operation needs (e.g. the job already finished). */
export class FailedPreconditionError extends DomainError {
  readonly kind = "failed_precondition";
}

/** A quota or rate limit is exceeded; `retryAfterSeconds` tells the client when to try again. */
export class ResourceExhaustedError extends DomainError {
  readonly kind = "resource_exhausted";
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** A concurrent change won; the client may retry the whole read-modify-write. */
export class AbortedError extends DomainError {
  readonly kind = "aborted";
}

/** A dependency is down or the server is shutting down; safe to retry with backoff. */
export class UnavailableError extends DomainError {
  readonly kind = "unavailable";
}

export class DeadlineExceededError extends DomainError {
  readonly kind = "deadline_exceeded";
}

export class UnimplementedError extends DomainError {
  readonly kind = "unimplemented";
}
