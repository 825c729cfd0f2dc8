// E2E support: the built SDK package, loaded only after checking the build exists, so a missing
// build fails with the command that fixes it instead of an unresolved import.
import { assertBuilt } from './gatehouse-process.js';

assertBuilt();

const core = await import('@gatehouse/sdk');
const grpc = await import('@gatehouse/sdk/grpc');
const http = await import('@gatehouse/sdk/http');
const hono = await import('@gatehouse/sdk/hono');

export const {
  AlreadyExistsError,
  DeadlineExceededError,
  FailedPreconditionError,
  GatehouseClient,
  InvalidArgumentError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} = core;
export type GatehouseClient = InstanceType<typeof core.GatehouseClient>;
export type { GatehouseError, Transport, WatchEvent } from '@gatehouse/sdk';
export const { createGrpcTransport } = grpc;
export const { createHttpTransport } = http;
export const { requirePermission } = hono;
