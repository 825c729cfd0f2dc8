// The one mapping from domain errors to HTTP status and the JSON error body.
import { type ErrorCode, type GatehouseError, InvalidArgumentError } from '../../errors.js';
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
  // Never seen by the client, which has gone; nginx's "client closed request", for logs and metrics.
  CANCELLED: 499,
};

/** `{"error": {"code", "message", "field"?}}`; INTERNAL errors carry a generic message only. */
export function errorBody(err: GatehouseError): string {
  return JSON.stringify({ error: encodeErrorDetail(err) });
}

/** A body that is not `application/json`: INVALID_ARGUMENT, but answered 415 as HTTP clients expect. */
export class UnsupportedMediaTypeError extends InvalidArgumentError {}

/** The HTTP status of an error: the code's row in HTTP_STATUS, except 415 for the media type. */
export function httpStatus(err: GatehouseError): number {
  return err instanceof UnsupportedMediaTypeError ? 415 : HTTP_STATUS[err.code];
}
