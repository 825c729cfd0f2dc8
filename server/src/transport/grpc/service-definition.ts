// The grpc-js service definition for GatehouseService with protobufjs codecs: the reflection
// codecs protobufjs generates at load time, no proto-loader conversion pass on the hot path.
// Measured on CheckRequest/CheckResponse (median of 5 × 500k, noisy 2-core box): decode 437 ns
// vs 1553 ns for proto-loader's deserializer (decode + toObject), encode 348 ns vs 844 ns.
// pbjs static-module codecs were measured against these and not adopted: they are the same
// encode/decode functions protobufjs generates at load time, and bench/grpc/codec-bench.ts finds
// them within ±10% CPU per call with no consistent winner, nor any gain end to end in
// bench/grpc/e2e-bench.ts, so a generated file and its sync check would buy nothing.
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { SERVICE_NAME } from './proto.js';

type Message = Record<string, unknown>;

/**
 * What the request deserializer hands the handler for bytes that are not a valid request
 * message. grpc-js would answer a throwing deserializer with INTERNAL ("Error deserializing
 * request") before any Gatehouse code ran, so nothing would be counted or logged; the handler
 * answers this with INVALID_ARGUMENT instead.
 */
export class MalformedRequest {
  constructor(
    readonly typeName: string,
    readonly reason: string,
  ) {}
}

function decoder(type: protobuf.Type): (bytes: Buffer) => Message {
  return (bytes) => {
    try {
      return type.decode(bytes) as unknown as Message;
    } catch (err) {
      return new MalformedRequest(type.name, err instanceof Error ? err.message : String(err)) as never;
    }
  };
}

/**
 * Methods whose handler may write a response it serialized itself: a LookupResources page is
 * encoded once and its bytes reused by every stream that sends it (wire/lookup-page-cache.ts).
 */
const PRESERIALIZED = new Set(['LookupResources']);

/** One method definition per rpc in the proto, keyed by rpc name (`Check`, `Watch`, ...). */
export function gatehouseServiceDefinition(root: protobuf.Root): ServiceDefinition {
  const service = root.lookupService(SERVICE_NAME);
  const definition: Record<string, MethodDefinition<Message, Message>> = {};
  for (const method of service.methodsArray) {
    const request = method.resolvedRequestType!;
    const response = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${SERVICE_NAME}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (value: Message) => request.encode(value).finish() as Buffer,
      requestDeserialize: decoder(request),
      responseSerialize: PRESERIALIZED.has(method.name)
        ? (value: Message | Uint8Array) =>
            (value instanceof Uint8Array ? value : response.encode(value).finish()) as Buffer
        : (value: Message) => response.encode(value).finish() as Buffer,
      responseDeserialize: (bytes: Buffer) => response.decode(bytes) as unknown as Message,
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
  }
  return definition;
}
