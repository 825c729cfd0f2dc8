// Loads the Gatehouse service definition from proto/: proto-loader objects for the correctness
// gate (readable camelCase, enums as strings), protobufjs codecs for the timed paths.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type protobuf from 'protobufjs';
import { gatehouseProto } from '../../server/src/transport/grpc/proto.js';
import { gatehouseServiceDefinition } from '../../server/src/transport/grpc/service-definition.js';

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

/**
 * The protobufjs codecs the Gatehouse server itself uses (server/src/transport/grpc), for the
 * load client and the echo floor: a floor decoding with a slower codec than the server would
 * not be a ceiling, and a client spending CPU on conversions steals it from the server on a
 * 2-core machine.
 */
export function gatehouseProtobufRoot(): protobuf.Root {
  return gatehouseProto();
}

export function gatehouseProtobufServiceDefinition(): grpc.ServiceDefinition {
  return gatehouseServiceDefinition(gatehouseProto());
}

/** Permissionship enum values as protobufjs decodes them (numbers). */
export const PERMISSIONSHIP = { noPermission: 1, hasPermission: 2 } as const;
