// Entry point of @gatehouse/sdk: the transport-free client, its public types and errors.
export { type ClientOptions, GatehouseClient } from './client.js';
export {
  AbortedError,
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  type ErrorCode,
  errorFromCode,
  FailedPreconditionError,
  GatehouseError,
  type GatehouseErrorOptions,
  InternalError,
  InvalidArgumentError,
  isErrorCode,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from './errors.js';
export { Paged } from './paged.js';
export {
  formatObject,
  formatRelationship,
  formatSubject,
  parseObject,
  parseRelationship,
  parseSubject,
} from './refs.js';
export type { RetryPolicy } from './retry.js';
export type { StreamMethod, Transport, TransportCallOptions, UnaryMethod, WireMessage } from './transport.js';
export type * from './types.js';
