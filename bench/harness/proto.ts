// Loads the Gatehouse service definition from proto/ for the gRPC load client and the echo
// server, with the same conversions the server uses (camelCase fields, enums as strings).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_PATH = fileURLToPath(new URL('../../proto/gatehouse/v1/gatehouse.proto', import.meta.url));

/** The GatehouseService definition, for `new grpc.Server().addService` and client construction. */
export function loadGatehouseService(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(PROTO_PATH, {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    gatehouse: { v1: { GatehouseService: grpc.ServiceClientConstructor } };
  };
  return pkg.gatehouse.v1.GatehouseService;
}
