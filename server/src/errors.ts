// Typed domain errors. Transports map `code` to gRPC/HTTP status in one place each
// (server/src/transport/*/errors.ts); nothing else inspects error classes for wire codes.

/** Canonical error codes, named after gRPC status codes so the mapping is one table. */
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
  | 'INTERNAL'
  | 'CANCELLED';

/** Base class of every error Gatehouse raises on purpose. `field` names the offending input, if any. */
export class GatehouseError extends Error {
  override readonly name: string = 'GatehouseError';
  readonly code: ErrorCode;
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, options?: { field?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options?.field;
  }
}

/** The request is malformed: bad id syntax, unknown type/relation/permission, oversized input. */
export class InvalidArgumentError extends GatehouseError {
  override readonly name = 'InvalidArgumentError';
  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/**
 * An invalid request field whose path is relative to the request (or batch item) it was found
 * in: `resource`, `subject`, `contextualRelationships[2]`. A batch names the item with
 * `under('items[3].')`; the message is built from the path, so it says the same in both.
 * Every error the resolve step (engine/resolve.ts) and the wire decoder raise is one of these.
 */
export class RequestFieldError extends InvalidArgumentError {
  readonly #describe: (field: string) => string;
  /** `describe(field)` is the message; it should quote the field and the offending input. */
  constructor(field: string, describe: (field: string) => string, options?: { cause?: unknown }) {
    super(describe(field), { field, cause: options?.cause });
    this.#describe = describe;
  }

  /** The same error for the field at `prefix` + this field's path. */
  under(prefix: string): RequestFieldError {
    return new RequestFieldError(prefix + this.field!, this.#describe, { cause: this.cause });
  }

  /** `err` (an InvalidArgumentError raised without a field) as the error of `field`. */
  static at(field: string, err: InvalidArgumentError): RequestFieldError {
    const message = err.message;
    return new RequestFieldError(field, () => message, { cause: err.cause });
  }
}

/** `err` re-rooted under `prefix` (a batch item's `items[i].`): field errors and field-named limits. */
export function underPrefix(err: unknown, prefix: string): GatehouseError {
  if (err instanceof RequestFieldError) return err.under(prefix);
  if (err instanceof LimitExceededError && err.field !== undefined) {
    return new LimitExceededError(err.message, { field: prefix + err.field });
  }
  return asGatehouseError(err);
}

/** A write precondition did not hold, or a reload would orphan stored relationships. */
export class FailedPreconditionError extends GatehouseError {
  override readonly name = 'FailedPreconditionError';
  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super('FAILED_PRECONDITION', message, options);
  }
}

/** A `create` write found the relationship already stored. */
export class AlreadyExistsError extends GatehouseError {
  override readonly name = 'AlreadyExistsError';
  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super('ALREADY_EXISTS', message, options);
  }
}

/** A configured limit (batch size, depth, page size, payload) was exceeded. */
export class LimitExceededError extends GatehouseError {
  override readonly name = 'LimitExceededError';
  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super('RESOURCE_EXHAUSTED', message, options);
  }
}

/** Evaluation needed more nested steps than the configured depth limit allows. */
export class DepthExceededError extends GatehouseError {
  override readonly name = 'DepthExceededError';
  constructor(readonly limit: number) {
    super(
      'RESOURCE_EXHAUSTED',
      `evaluation exceeded the depth limit of ${limit} nested steps; the group graph is deeper than allowed (raise --max-depth or flatten the nesting)`,
    );
  }
}

/** The backing store cannot be reached; reads may still be served from local state. */
export class UnavailableError extends GatehouseError {
  override readonly name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

/**
 * A watch asked for revisions the changelog no longer holds (trimmed behind the caller). The
 * follower cannot catch up change by change: it must resync from a snapshot.
 */
export class ChangelogTruncatedError extends GatehouseError {
  override readonly name = 'ChangelogTruncatedError';
  constructor(
    message: string,
    /** The oldest revision a watch can still start after. */
    readonly oldestWatchable: number,
  ) {
    super('FAILED_PRECONDITION', message);
  }
}

/**
 * The store's data was started anew (a Redis that came back empty, a FLUSHALL): its epoch
 * changed, so its revision numbers say nothing about the ones a follower has applied. Never
 * taken as "the revision went backwards, carry on".
 */
export class StoreEpochChangedError extends GatehouseError {
  override readonly name = 'StoreEpochChangedError';
  constructor(
    message: string,
    readonly previousEpoch: string,
    readonly currentEpoch: string | undefined,
  ) {
    super('UNAVAILABLE', message);
  }
}

/** The request's deadline passed before it could be answered. */
export class DeadlineExceededError extends GatehouseError {
  override readonly name = 'DeadlineExceededError';
  constructor(message: string) {
    super('DEADLINE_EXCEEDED', message);
  }
}

/** A call that needs a bearer token arrived without one, or with one this server does not know. */
export class UnauthenticatedError extends GatehouseError {
  override readonly name = 'UnauthenticatedError';
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

/** The bearer token is valid but lacks the scope the operation needs. */
export class PermissionDeniedError extends GatehouseError {
  override readonly name = 'PermissionDeniedError';
  constructor(message: string) {
    super('PERMISSION_DENIED', message);
  }
}

/** A position inside a policy file; line and column are 1-based. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One problem found in a policy file. `path` is a JSONPath-like location such as `$.types.contact.permissions.view`. */
export interface PolicyProblem {
  readonly position: SourcePosition;
  readonly path: string;
  readonly message: string;
}

/**
 * The policy files are invalid. Carries every problem found (not only the first), sorted by
 * file, line and column; `message` renders them as `file:line:column: message` lines.
 */
export class PolicyError extends GatehouseError {
  override readonly name = 'PolicyError';
  readonly problems: readonly PolicyProblem[];
  constructor(problems: readonly PolicyProblem[]) {
    const sorted = [...problems].sort(comparePolicyProblems);
    super('INVALID_ARGUMENT', sorted.map(formatPolicyProblem).join('\n'));
    this.problems = sorted;
  }
}

export function formatPolicyProblem(p: PolicyProblem): string {
  return `${p.position.file}:${p.position.line}:${p.position.column}: ${p.message}`;
}

function comparePolicyProblems(a: PolicyProblem, b: PolicyProblem): number {
  return (
    a.position.file.localeCompare(b.position.file) ||
    a.position.line - b.position.line ||
    a.position.column - b.position.column ||
    a.message.localeCompare(b.message)
  );
}

/**
 * The caller went away (closed its connection, cancelled its call) before it was answered. Not a
 * Gatehouse failure: counted as CANCELLED and logged at debug, since anyone can cause it.
 */
export class CancelledError extends GatehouseError {
  override readonly name = 'CancelledError';
  constructor(message = 'the client went away before it was answered', options?: { cause?: unknown }) {
    super('CANCELLED', message, options);
  }
}

/** Narrow an unknown thrown value to a GatehouseError, wrapping anything else as INTERNAL. */
export function asGatehouseError(err: unknown): GatehouseError {
  if (err instanceof GatehouseError) return err;
  return new GatehouseError('INTERNAL', 'internal error', { cause: err });
}

/** A write kept losing a race with other writers after its bounded retries: retry later. */
export class AbortedError extends GatehouseError {
  override readonly name = 'AbortedError';
  constructor(message: string) {
    super('ABORTED', message);
  }
}

/** Why a compiled graph snapshot was refused. */
export type SnapshotCorruptReason = 'magic' | 'version' | 'schema' | 'checksum' | 'truncated' | 'malformed';

/**
 * A compiled graph snapshot failed validation (wrong magic or format version, made for another
 * schema, a chunk missing, short or altered). The reader rebuilds from the relationships
 * instead; a corrupt graph is never served.
 */
export class SnapshotCorruptError extends GatehouseError {
  override readonly name = 'SnapshotCorruptError';
  constructor(
    readonly reason: SnapshotCorruptReason,
    message: string,
    cause?: unknown,
  ) {
    super('INTERNAL', message, cause === undefined ? undefined : { cause });
  }
}
