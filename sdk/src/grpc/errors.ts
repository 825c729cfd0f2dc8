// The one place gRPC failures become typed SDK errors: status codes, trailing metadata, cancellation.
import { type Metadata, status } from '@grpc/grpc-js';
import { cancelledError, deadlineError } from '../call.js';
import { type ErrorCode, errorFromCode, type GatehouseError, isErrorCode } from '../errors.js';

const CODE_BY_STATUS: Readonly<Partial<Record<status, ErrorCode>>> = {
  [status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [status.OUT_OF_RANGE]: 'INVALID_ARGUMENT',
  [status.NOT_FOUND]: 'NOT_FOUND',
  [status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [status.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [status.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [status.UNAVAILABLE]: 'UNAVAILABLE',
  [status.ABORTED]: 'ABORTED',
  [status.CANCELLED]: 'CANCELLED',
  [status.INTERNAL]: 'INTERNAL',
  [status.UNKNOWN]: 'INTERNAL',
  [status.UNIMPLEMENTED]: 'INTERNAL',
  [status.DATA_LOSS]: 'INTERNAL',
};

/** Trailing metadata keys the server may set to carry what a status code cannot. */
export const FIELD_METADATA_KEY = 'gatehouse-error-field';
export const CODE_METADATA_KEY = 'gatehouse-error-code';

interface GrpcFailure {
  readonly code?: number;
  readonly details?: string;
  readonly metadata?: Metadata;
  readonly message?: string;
}

export interface FailureContext {
  readonly address: string;
  readonly deadline: number | undefined;
  readonly signal: AbortSignal | undefined;
}

function metadataString(metadata: Metadata | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Map a grpc-js error (a ServiceError, or anything thrown while calling) to a GatehouseError. */
export function mapGrpcError(err: unknown, ctx: FailureContext): GatehouseError {
  const e = (err ?? {}) as GrpcFailure;
  if (ctx.signal?.aborted) return cancelledError(ctx.signal);
  const field = metadataString(e.metadata, FIELD_METADATA_KEY);
  // The server's own code name wins when present: it tells ALREADY_EXISTS from ABORTED etc. exactly.
  const named = metadataString(e.metadata, CODE_METADATA_KEY);
  // Without it the status came from grpc-js itself (deadline, connection): say which deadline passed.
  if (named === undefined && e.code === status.DEADLINE_EXCEEDED && ctx.deadline !== undefined) {
    return deadlineError(ctx.deadline);
  }
  let code: ErrorCode = isErrorCode(named) ? named : (CODE_BY_STATUS[e.code as status] ?? 'INTERNAL');
  // CancelledError means "your signal aborted"; a call the server side cancelled (shutdown, a
  // proxy) was not the caller's doing, and may succeed against the server again.
  if (code === 'CANCELLED') code = 'UNAVAILABLE';
  const details = e.details ?? e.message ?? String(err);
  const message =
    code === 'UNAVAILABLE' ? `Gatehouse server at ${ctx.address} is unavailable: ${details}` : details;
  return errorFromCode(code, message, { field, cause: err });
}
