// Entry point of @gatehouse/sdk/grpc: the gRPC transport (grpc-js and protobufjs, optional peers).
import { GrpcTransport, type GrpcTransportOptions } from './transport.js';

export { type GrpcTlsOptions, GrpcTransport, type GrpcTransportOptions } from './transport.js';

/**
 * A Transport over gRPC to `address` (`host:port` or `unix:/path`).
 *
 * @example
 * import { GatehouseClient } from '@gatehouse/sdk';
 * import { createGrpcTransport } from '@gatehouse/sdk/grpc';
 * const client = new GatehouseClient(createGrpcTransport({ address: '127.0.0.1:50051', token: process.env.GATEHOUSE_TOKEN }));
 * const sidecar = new GatehouseClient(createGrpcTransport({ address: 'unix:/run/gatehouse/grpc.sock' }));
 */
export function createGrpcTransport(options: GrpcTransportOptions): GrpcTransport {
  return new GrpcTransport(options);
}
