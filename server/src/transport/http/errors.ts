// The one mapping from domain errors to HTTP status and the JSON error body.
import type { ErrorCode, GatehouseError } from '../../errors.js';
import { encodeErrorDetail } from '../wire/encode.js';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  FAILED_PRECONDITION: 412,
  RESOURCE_EXHAUSTED: 413,
  DEADLINE_EXCEEDED: 504,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** `{"error": {"code", "message", "field"?}}`; INTERNAL errors carry a generic message only. */
export function errorBody(err: GatehouseError): string {
  return JSON.stringify({ error: encodeErrorDetail(err) });
}
