// gRPC server reflection (v1 and v1alpha), loaded on its first call. @grpc/reflection, the
// proto-loader package definition it indexes and its indexes of gatehouse.proto cost a server
// about 120 ms of start-up and 2-3 MB of memory (bench/RESULTS.md, footprint), and only tools
// such as grpcurl ever call it. The services are registered at start with pass-through
// (bytes) codecs; the first call loads the library and hands each call to the library's own
// handler through an object-mode stream that decodes and encodes with the library's codecs.
import { Duplex } from 'node:stream';
import {
  type handleBidiStreamingCall,
  type MethodDefinition,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  status,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';

const VERSIONS = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'] as const;
const METHOD = 'ServerReflectionInfo';

type BidiHandler = handleBidiStreamingCall<unknown, unknown>;

/** One reflection service as the library registers it: its method definition and handler. */
interface LoadedMethod {
  readonly definition: MethodDefinition<unknown, unknown>;
  readonly handler: BidiHandler;
}

const passThrough = (bytes: Buffer): Buffer => bytes;

/** The service definition registered at start: the library's method paths, bytes in and out. */
function bytesService(service: string): ServiceDefinition {
  return {
    [METHOD]: {
      path: `/${service}/${METHOD}`,
      requestStream: true,
      responseStream: true,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
    },
  };
}

/** Builds the library's services for the package and collects what it would register, by path. */
async function loadReflection(
  packageDefinition: () => PackageDefinition,
): Promise<Map<string, LoadedMethod>> {
  const { ReflectionService } = await import('@grpc/reflection');
  const methods = new Map<string, LoadedMethod>();
  new ReflectionService(packageDefinition()).addToServer({
    addService(service: ServiceDefinition, implementation: Record<string, UntypedHandleCall>) {
      for (const [name, definition] of Object.entries(service)) {
        methods.set(definition.path, {
          definition: definition as MethodDefinition<unknown, unknown>,
          handler: implementation[name] as BidiHandler,
        });
      }
    },
  });
  return methods;
}

/** Ends the call with a status (grpc-js sends the status of an 'error' emitted on a server stream). */
function fail(call: ServerDuplexStream<Buffer, Buffer>, code: status, details: string): void {
  call.emit('error', { code, details });
}

/** The call as the library's handler sees it: decoded requests in, response objects out. */
function decodedCall(call: ServerDuplexStream<Buffer, Buffer>, method: LoadedMethod): Duplex {
  const { definition } = method;
  const decoded = new Duplex({
    objectMode: true,
    read() {
      call.resume();
    },
    write(response: unknown, _encoding, done) {
      let bytes: Buffer;
      try {
        bytes = definition.responseSerialize(response);
      } catch {
        fail(call, status.INTERNAL, 'a reflection answer could not be encoded');
        done();
        return;
      }
      call.write(bytes, done);
    },
    final(done) {
      call.end();
      done();
    },
  });
  call.on('data', (bytes: Buffer) => {
    let request: unknown;
    try {
      request = definition.requestDeserialize(bytes);
    } catch {
      fail(call, status.INVALID_ARGUMENT, 'invalid reflection request');
      return;
    }
    if (!decoded.push(request)) call.pause();
  });
  call.on('end', () => decoded.push(null));
  call.on('error', () => decoded.destroy());
  // The library's handler listens for data and end only: an error here must not go unheard.
  decoded.on('error', () => call.destroy());
  return decoded;
}

/**
 * Registers server reflection for the package; the library loads on the first reflection call.
 * A load that fails ends the calls waiting on it with INTERNAL, is told to `onLoadError` (the
 * cause: the caller logs it), and the next call tries again.
 */
export function addLazyReflection(
  server: Server,
  packageDefinition: () => PackageDefinition,
  onLoadError: (err: unknown) => void = () => {},
): void {
  let loading: Promise<Map<string, LoadedMethod>> | undefined;
  for (const service of VERSIONS) {
    const path = `/${service}/${METHOD}`;
    server.addService(bytesService(service), {
      [METHOD]: (call: ServerDuplexStream<Buffer, Buffer>) => {
        call.pause();
        loading ??= loadReflection(packageDefinition);
        const waitedOn = loading;
        loading.then(
          (methods) => {
            // A call the client cancelled while the library loaded has nobody left to answer.
            if (call.cancelled || call.destroyed) return;
            const method = methods.get(path);
            if (method === undefined) {
              fail(call, status.UNIMPLEMENTED, `no reflection service ${service}`);
              return;
            }
            try {
              method.handler(decodedCall(call, method) as unknown as ServerDuplexStream<unknown, unknown>);
            } catch {
              fail(call, status.INTERNAL, 'server reflection failed');
            }
          },
          (err: unknown) => {
            // Every call waiting on this load lands here: report the cause once, retry on the next.
            if (loading === waitedOn) {
              loading = undefined;
              onLoadError(err);
            }
            fail(call, status.INTERNAL, 'server reflection could not be loaded: see the server log');
          },
        );
      },
    });
  }
}
