// The one mapping from domain errors to gRPC status. Internal failures get a generic message.
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { ErrorCode, GatehouseError } from '../../errors.js';
import { INTERNAL_MESSAGE } from '../wire/encode.js';

export const GRPC_STATUS: Readonly<Record<ErrorCode, status>> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAVAILABLE: status.UNAVAILABLE,
  ABORTED: status.ABORTED,
  INTERNAL: status.INTERNAL,
  CANCELLED: status.CANCELLED,
};

/**
 * The status a client sees. The offending field travels in the `gatehouse-error-field` trailer
 * and the canonical code name in `gatehouse-error-code`, so SDKs need not parse messages.
 */
export function toServiceError(err: GatehouseError): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set('gatehouse-error-code', err.code);
  if (err.field !== undefined) metadata.set('gatehouse-error-field', err.field);
  return {
    code: GRPC_STATUS[err.code],
    details: err.code === 'INTERNAL' ? INTERNAL_MESSAGE : err.message,
    metadata,
  };
}
