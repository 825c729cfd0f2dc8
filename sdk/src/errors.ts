// Typed errors of the SDK: one class per server error code, built from a code in one place.

/**
 * Error codes a Gatehouse call can fail with: the server's canonical codes (named after gRPC
 * status codes) plus `CANCELLED` for calls the caller aborted through an AbortSignal.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'DEADLINE_EXCEEDED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE'
  | 'ABORTED'
  | 'CANCELLED'
  | 'INTERNAL';

/** Options every SDK error accepts. */
export interface GatehouseErrorOptions {
  /** The request field at fault, as the server named it (`resource`, `items[3].subject`). */
  readonly field?: string | undefined;
  readonly cause?: unknown;
}

/**
 * Base class of every error the SDK throws. Switch on `code` (stable) or use `instanceof`
 * with a subclass.
 *
 * @example
 * try {
 *   await client.write({ create: ['group:g#member@user:mike'] });
 * } catch (err) {
 *   if (err instanceof AlreadyExistsError) return; // someone else added it first
 *   throw err;
 * }
 */
export class GatehouseError extends Error {
  override readonly name: string = 'GatehouseError';
  readonly code: ErrorCode;
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, options?: GatehouseErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options?.field;
  }
}

/** The request is malformed: bad id syntax, unknown type, relation or permission. */
export class InvalidArgumentError extends GatehouseError {
  override readonly name = 'InvalidArgumentError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** The named thing does not exist. */
export class NotFoundError extends GatehouseError {
  override readonly name = 'NotFoundError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

/** A `create` write found the relationship already stored. */
export class AlreadyExistsError extends GatehouseError {
  override readonly name = 'AlreadyExistsError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('ALREADY_EXISTS', message, options);
  }
}

/** A write precondition did not hold. */
export class FailedPreconditionError extends GatehouseError {
  override readonly name = 'FailedPreconditionError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('FAILED_PRECONDITION', message, options);
  }
}

/** A server limit was exceeded: batch size, body size, page size or evaluation depth. */
export class ResourceExhaustedError extends GatehouseError {
  override readonly name = 'ResourceExhaustedError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('RESOURCE_EXHAUSTED', message, options);
  }
}

/** The call's deadline passed before an answer arrived. */
export class DeadlineExceededError extends GatehouseError {
  override readonly name = 'DeadlineExceededError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('DEADLINE_EXCEEDED', message, options);
  }
}

/** A write or admin call was sent without the server's bearer token, or with a wrong one. */
export class UnauthenticatedError extends GatehouseError {
  override readonly name = 'UnauthenticatedError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('UNAUTHENTICATED', message, options);
  }
}

/** The caller is authenticated but not allowed to make this call. */
export class PermissionDeniedError extends GatehouseError {
  override readonly name = 'PermissionDeniedError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('PERMISSION_DENIED', message, options);
  }
}

/** The server could not be reached or is shutting down; reads are retried on this code. */
export class UnavailableError extends GatehouseError {
  override readonly name = 'UnavailableError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('UNAVAILABLE', message, options);
  }
}

/** The server gave up on a conflicting concurrent operation; retrying the whole operation may succeed. */
export class AbortedError extends GatehouseError {
  override readonly name = 'AbortedError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('ABORTED', message, options);
  }
}

/** The caller aborted the call through its AbortSignal. */
export class CancelledError extends GatehouseError {
  override readonly name = 'CancelledError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('CANCELLED', message, options);
  }
}

/** The server failed unexpectedly, or answered with something the SDK cannot read. */
export class InternalError extends GatehouseError {
  override readonly name = 'InternalError';
  constructor(message: string, options?: GatehouseErrorOptions) {
    super('INTERNAL', message, options);
  }
}

type ErrorClass = new (message: string, options?: GatehouseErrorOptions) => GatehouseError;

const ERROR_CLASSES: Readonly<Record<ErrorCode, ErrorClass>> = {
  INVALID_ARGUMENT: InvalidArgumentError,
  NOT_FOUND: NotFoundError,
  ALREADY_EXISTS: AlreadyExistsError,
  FAILED_PRECONDITION: FailedPreconditionError,
  RESOURCE_EXHAUSTED: ResourceExhaustedError,
  DEADLINE_EXCEEDED: DeadlineExceededError,
  UNAUTHENTICATED: UnauthenticatedError,
  PERMISSION_DENIED: PermissionDeniedError,
  UNAVAILABLE: UnavailableError,
  ABORTED: AbortedError,
  CANCELLED: CancelledError,
  INTERNAL: InternalError,
};

/** True when `code` is one of the codes the SDK knows. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CLASSES, code);
}

/**
 * Build the typed error for a code. Unknown codes (a newer server) become InternalError with
 * the server's code quoted, so nothing is silently misclassified.
 */
export function errorFromCode(
  code: string,
  message: string,
  options?: GatehouseErrorOptions,
): GatehouseError {
  if (isErrorCode(code)) return new ERROR_CLASSES[code](message, options);
  return new InternalError(`server answered with unknown error code '${code}': ${message}`, options);
}
