// Test support: an in-process grpc-js server that serves a FakeBackend with the shipped proto.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { ErrorCode } from '../errors.js';
import { SERVICE_NAME, shippedProtoPath } from '../grpc/proto.js';
import { jsonToMessageObject, messageObjectToJson } from '../grpc/well-known.js';
import type { StreamMethod, UnaryMethod, WireMessage } from '../transport.js';
import { type FakeBackend, type FakeCall, FakeError, type FakeServer } from './fake-backend.js';

const STATUS: Readonly<Record<ErrorCode, grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  ABORTED: grpc.status.ABORTED,
  CANCELLED: grpc.status.CANCELLED,
  INTERNAL: grpc.status.INTERNAL,
};

function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  if (!(err instanceof FakeError)) return { code: grpc.status.INTERNAL, details: 'internal error' };
  const metadata = new grpc.Metadata();
  metadata.set('gatehouse-error-code', err.code);
  if (err.field !== undefined) metadata.set('gatehouse-error-field', err.field);
  return { code: STATUS[err.code], details: err.message, metadata };
}

function headersOf(metadata: grpc.Metadata): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) headers[key] = String(value);
  return headers;
}

function timeoutOf(deadline: grpc.Deadline): number | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms - Date.now() : undefined;
}

/** Start a fake gRPC server on a free loopback port. */
export async function startFakeGrpcServer(backend: FakeBackend): Promise<FakeServer> {
  const root = protobuf.loadSync(shippedProtoPath());
  const service = root.lookupService(SERVICE_NAME);
  const calls: FakeCall[] = [];
  const definition: Record<string, grpc.MethodDefinition<WireMessage, WireMessage>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  const toObject: protobuf.IConversionOptions = { enums: String, longs: String, json: true };
  for (const method of service.methodsArray) {
    const req = root.lookupType(method.requestType);
    const res = root.lookupType(method.responseType);
    definition[method.name] = {
      path: `/${SERVICE_NAME}/${method.name}`,
      requestStream: false,
      responseStream: method.responseStream === true,
      requestSerialize: (v: WireMessage) => Buffer.from(req.encode(req.fromObject(v)).finish()),
      // The backend sees and answers proto3 JSON, as over HTTP: one contract suite for both.
      requestDeserialize: (b: Buffer) => messageObjectToJson(req, req.toObject(req.decode(b), toObject)),
      responseSerialize: (v: WireMessage) =>
        Buffer.from(res.encode(res.fromObject(jsonToMessageObject(res, v))).finish()),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), toObject),
    };
    const record = (
      call:
        | grpc.ServerUnaryCall<WireMessage, WireMessage>
        | grpc.ServerWritableStream<WireMessage, WireMessage>,
    ): FakeCall => {
      const controller = new AbortController();
      call.on('cancelled', () => controller.abort());
      const fake: FakeCall = {
        method: method.name as UnaryMethod,
        request: call.request,
        headers: headersOf(call.metadata),
        timeoutMs: timeoutOf(call.getDeadline()),
        signal: controller.signal,
      };
      calls.push(fake);
      return fake;
    };
    if (method.responseStream === true) {
      implementation[method.name] = async (call: grpc.ServerWritableStream<WireMessage, WireMessage>) => {
        const fake = record(call);
        const handler = backend.stream?.[method.name as StreamMethod];
        try {
          if (handler === undefined) throw new FakeError('INTERNAL', `no fake for ${method.name}`);
          for await (const message of handler(fake)) {
            if (fake.signal.aborted) return;
            call.write(message);
          }
          call.end();
        } catch (err) {
          call.emit('error', toServiceError(err));
        }
      };
    } else {
      implementation[method.name] = async (
        call: grpc.ServerUnaryCall<WireMessage, WireMessage>,
        callback: grpc.sendUnaryData<WireMessage>,
      ) => {
        const fake = record(call);
        const handler = backend.unary?.[method.name as UnaryMethod];
        try {
          if (handler === undefined) throw new FakeError('INTERNAL', `no fake for ${method.name}`);
          callback(null, await handler(fake));
        } catch (err) {
          callback(toServiceError(err), null);
        }
      };
    }
  }
  const server = new grpc.Server();
  server.addService(definition as grpc.ServiceDefinition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    calls,
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => server.tryShutdown(() => resolve())).then(() => server.forceShutdown()),
    kill: () => server.forceShutdown(),
  };
}
