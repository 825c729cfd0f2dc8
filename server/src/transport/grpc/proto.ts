// Loads gatehouse.proto once: protobufjs types for the codecs, a proto-loader package
// definition only for server reflection (which needs file descriptors).
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** Same depth from src/ and dist/: <repo>/proto/gatehouse/v1/gatehouse.proto. */
export const PROTO_PATH = fileURLToPath(
  new URL('../../../../proto/gatehouse/v1/gatehouse.proto', import.meta.url),
);
export const SERVICE_NAME = 'gatehouse.v1.GatehouseService';

let cachedRoot: protobuf.Root | undefined;

/** The parsed proto, loaded on first use and shared by every server in the process. */
export function gatehouseProto(): protobuf.Root {
  if (cachedRoot === undefined) {
    cachedRoot = protobuf.loadSync(PROTO_PATH);
    cachedRoot.resolveAll();
  }
  return cachedRoot;
}

/** The package definition @grpc/reflection describes to clients such as grpcurl. */
export function reflectionPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(PROTO_PATH, {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
}
