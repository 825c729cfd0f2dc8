// Loads the Gatehouse proto shipped in the package and builds a codec per RPC of the service.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { InternalError } from '../errors.js';
import type { StreamMethod, UnaryMethod, WireMessage } from '../transport.js';
import { jsonToMessageObject, messageObjectToJson } from './well-known.js';

export const SERVICE_NAME = 'gatehouse.v1.GatehouseService';

/** Encoding and decoding of one RPC's messages between proto3 JSON form and bytes. */
export interface MethodCodec {
  /** `/gatehouse.v1.GatehouseService/Check`. */
  readonly path: string;
  readonly serialize: (request: WireMessage) => Buffer;
  readonly deserialize: (bytes: Buffer) => WireMessage;
}

export type Codecs = Readonly<Record<UnaryMethod | StreamMethod, MethodCodec>>;

// The package build copies proto/ into the package root (sdk/proto); running from a workspace
// checkout without a build, the repository's proto/ is found one level further up.
const CANDIDATES = [
  '../../proto/gatehouse/v1/gatehouse.proto',
  '../../../proto/gatehouse/v1/gatehouse.proto',
];

/** The path of the shipped gatehouse.proto. */
export function shippedProtoPath(): string {
  for (const candidate of CANDIDATES) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new InternalError(
    `gatehouse.proto not found next to the SDK (looked for ${CANDIDATES.join(', ')} from ${import.meta.url}); reinstall @gatehouse/sdk or run its build`,
  );
}

// Proto3 JSON form: enums by name, 64-bit integers as strings, defaults omitted.
const TO_OBJECT: protobuf.IConversionOptions = { enums: String, longs: String, json: true };

/** Load `protoPath` (default: the shipped proto) and build a codec for every RPC of the service. */
export function loadCodecs(protoPath: string = shippedProtoPath()): Codecs {
  const root = protobuf.loadSync(protoPath);
  const service = root.lookupService(SERVICE_NAME);
  const codecs: Record<string, MethodCodec> = {};
  for (const method of service.methodsArray) {
    const requestType = root.lookupType(method.requestType);
    const responseType = root.lookupType(method.responseType);
    codecs[method.name] = {
      path: `/${SERVICE_NAME}/${method.name}`,
      serialize: (request) =>
        Buffer.from(
          requestType.encode(requestType.fromObject(jsonToMessageObject(requestType, request))).finish(),
        ),
      deserialize: (bytes) =>
        messageObjectToJson(
          responseType,
          responseType.toObject(responseType.decode(bytes), TO_OBJECT) as WireMessage,
        ) as WireMessage,
    };
  }
  return codecs as unknown as Codecs;
}
