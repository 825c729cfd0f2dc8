// Echo servers for GatehouseService Check and CheckBatch that differ in one thing each, so the
// end-to-end bench can tell what raises the gRPC floor: the codec (grpc-js with protobufjs
// reflection, pbjs static or hand-written codecs), grpc-js's channelz bookkeeping, or the server
// implementation (grpc-js, @connectrpc/connect-node speaking the gRPC protocol, or a bare
// node:http2 handler that frames gRPC itself). Every variant answers every check "allowed", as the bench's floor does.
//
//   node --import tsx bench/grpc/echo-variants.ts --variant grpc-js/static --grpc 127.0.0.1:0
import { createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { parseArgs } from 'node:util';
import { create, createFileRegistry, type DescMethod, fromBinary } from '@bufbuild/protobuf';
import {
  type DescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import type { ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { gatehouseProto, PROTO_PATH, SERVICE_NAME } from '../../server/src/transport/grpc/proto.js';
import { logReady } from '../harness/targets/echo-args.js';
import * as hand from './hand-codec.js';
import { loadStaticCodecs } from './static-codecs.js';
import { VARIANTS, type Variant } from './variants.js';

type Msg = Record<string, unknown>;
interface Codec {
  decodeCheck(b: Buffer): Msg;
  encodeCheck(m: Msg): Buffer;
  decodeBatch(b: Buffer): Msg;
  encodeBatch(m: Msg): Buffer;
}

const ALLOWED = { permissionship: 2 };
const answerBatch = (request: Msg): Msg => ({
  results: ((request.items as unknown[] | undefined) ?? []).map(() => ALLOWED),
});

function reflectionCodec(): Codec {
  const root = gatehouseProto();
  const t = (name: string) => root.lookupType(`gatehouse.v1.${name}`);
  const [cq, cs, bq, bs] = [
    t('CheckRequest'),
    t('CheckResponse'),
    t('CheckBatchRequest'),
    t('CheckBatchResponse'),
  ];
  return {
    decodeCheck: (b) => cq.decode(b) as unknown as Msg,
    encodeCheck: (m) => cs.encode(m).finish() as Buffer,
    decodeBatch: (b) => bq.decode(b) as unknown as Msg,
    encodeBatch: (m) => bs.encode(m).finish() as Buffer,
  };
}

async function staticCodec(): Promise<Codec> {
  const s = await loadStaticCodecs();
  return {
    decodeCheck: (b) => s.CheckRequest!.decode(b),
    encodeCheck: (m) => s.CheckResponse!.encode(m).finish() as Buffer,
    decodeBatch: (b) => s.CheckBatchRequest!.decode(b),
    encodeBatch: (m) => s.CheckBatchResponse!.encode(m).finish() as Buffer,
  };
}

const handCodec: Codec = {
  decodeCheck: hand.decodeCheckRequest,
  encodeCheck: (m) => hand.encodeCheckResponse(m),
  decodeBatch: hand.decodeCheckBatchRequest,
  encodeBatch: (m) => hand.encodeCheckBatchResponse(m as Parameters<typeof hand.encodeCheckBatchResponse>[0]),
};

function grpcJsServer(codec: Codec, options: grpc.ServerOptions = {}): grpc.Server {
  const method = (name: string, decode: (b: Buffer) => Msg, encode: (m: Msg) => Buffer) => ({
    path: `/${SERVICE_NAME}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: encode,
    requestDeserialize: decode,
    responseSerialize: encode,
    responseDeserialize: decode,
  });
  const server = new grpc.Server(options);
  server.addService(
    {
      Check: method('Check', codec.decodeCheck, codec.encodeCheck),
      CheckBatch: method('CheckBatch', codec.decodeBatch, codec.encodeBatch),
    },
    {
      Check: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb(null, ALLOWED),
      CheckBatch: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) =>
        cb(null, answerBatch(call.request)),
    },
  );
  return server;
}

/**
 * protobufjs (behind proto-loader) writes type names relative to their scope ("ObjectReference",
 * "Operation", "google.protobuf.Struct"); @bufbuild/protobuf wants them fully qualified
 * (".gatehouse.v1.ObjectReference"). Resolve each the way protoc does, innermost enclosing scope
 * first, against the types of every file (gatehouse.proto imports the well-known types).
 */
function qualifyTypeNames(files: readonly FileDescriptorProto[]): void {
  const known = new Set<string>();
  const collect = (
    scope: string,
    messages: readonly DescriptorProto[],
    enums: readonly { name: string }[],
  ) => {
    for (const e of enums) known.add(`${scope}.${e.name}`);
    for (const m of messages) {
      known.add(`${scope}.${m.name}`);
      collect(`${scope}.${m.name}`, m.nestedType, m.enumType);
    }
  };
  const packageOf = (file: FileDescriptorProto): string => (file.package === '' ? '' : `.${file.package}`);
  for (const file of files) collect(packageOf(file), file.messageType, file.enumType);
  const resolve = (scope: string, name: string): string => {
    if (name === '' || name.startsWith('.')) return name;
    for (let s = scope; ; s = s.slice(0, s.lastIndexOf('.'))) {
      if (known.has(`${s}.${name}`)) return `${s}.${name}`;
      if (s === '') throw new Error(`cannot resolve type ${name} from ${scope}`);
    }
  };
  const fix = (scope: string, messages: readonly DescriptorProto[]) => {
    for (const m of messages) {
      const inner = `${scope}.${m.name}`;
      for (const f of m.field) f.typeName = resolve(inner, f.typeName);
      fix(inner, m.nestedType);
    }
  };
  for (const file of files) {
    const pkg = packageOf(file);
    fix(pkg, file.messageType);
    for (const s of file.service) {
      for (const m of s.method) {
        m.inputType = resolve(pkg, m.inputType);
        m.outputType = resolve(pkg, m.outputType);
      }
    }
  }
}

/** connect-node needs @bufbuild/protobuf descriptors: built from the proto at start-up, no codegen. */
function connectServer(): Http2Server {
  const definition = protoLoader.loadSync(PROTO_PATH, {});
  const files = new Map<string, FileDescriptorProto>();
  for (const entry of Object.values(definition)) {
    for (const bytes of (entry as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      files.set(file.name, file);
    }
  }
  qualifyTypeNames([...files.values()]);
  // proto-loader flattens each package into a file of its own and names no imports between them:
  // a file imports each other file whose package its (now qualified) type names reach.
  for (const file of files.values()) {
    const used: string[] = [];
    const gather = (messages: readonly DescriptorProto[]): void => {
      for (const m of messages) {
        for (const f of m.field) used.push(f.typeName);
        gather(m.nestedType);
      }
    };
    gather(file.messageType);
    file.dependency = [...files.values()]
      .filter((other) => other !== file && used.some((t) => t.startsWith(`.${other.package}.`)))
      .map((other) => other.name);
  }
  // A descriptor set is read in order: each file after the files it imports.
  const ordered = [...files.values()].sort((a, b) => a.dependency.length - b.dependency.length);
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
  const service = registry.getService(SERVICE_NAME);
  if (service === undefined) throw new Error(`${SERVICE_NAME} is not in ${PROTO_PATH}`);
  const check = service.methods.find((m) => m.name === 'Check')!;
  const batch = service.methods.find((m) => m.name === 'CheckBatch')!;
  // The registry's descriptors are untyped (DescMethod<any>), so the handlers are too.
  type Rpc = (method: DescMethod, impl: (request: unknown) => unknown) => void;
  const routes = (router: ConnectRouter): void => {
    const rpc = router.rpc.bind(router) as unknown as Rpc;
    rpc(check, () => ({ permissionship: 2 }));
    rpc(batch, (request) => ({
      results: (request as { items: unknown[] }).items.map(() => ({
        outcome: { case: 'permissionship', value: 2 },
      })),
    }));
  };
  return createServer(connectNodeAdapter({ routes, grpc: true, grpcWeb: false, connect: false }));
}

/** gRPC framing by hand on node:http2: one length-prefixed message in, one out, grpc-status trailer. */
function http2Server(codec: Codec): Http2Server {
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    const path = headers[':path'];
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const fail = (code: number, message: string): void => {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': String(code),
            'grpc-message': message,
          },
          { endStream: true },
        );
      };
      if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
        fail(grpc.status.INTERNAL, 'expected one uncompressed message');
        return;
      }
      const message = body.subarray(5);
      let answer: Buffer;
      if (path === `/${SERVICE_NAME}/Check`) {
        codec.decodeCheck(message);
        answer = codec.encodeCheck(ALLOWED);
      } else if (path === `/${SERVICE_NAME}/CheckBatch`) {
        answer = codec.encodeBatch(answerBatch(codec.decodeBatch(message)));
      } else {
        fail(grpc.status.UNIMPLEMENTED, `${String(path)} is not served here`);
        return;
      }
      const frame = Buffer.allocUnsafe(5 + answer.length);
      frame[0] = 0;
      frame.writeUInt32BE(answer.length, 1);
      answer.copy(frame, 5);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame);
    });
  });
  return server;
}

function listenHttp2(server: Http2Server, address: string): void {
  const ready = (): void => {
    const a = server.address();
    logReady({ grpc: typeof a === 'object' && a !== null ? `${a.address}:${a.port}` : address });
  };
  if (address.startsWith('unix:')) server.listen(address.slice('unix:'.length), ready);
  else {
    const colon = address.lastIndexOf(':');
    server.listen(Number(address.slice(colon + 1)), address.slice(0, colon), ready);
  }
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

const { values } = parseArgs({
  options: { variant: { type: 'string' }, grpc: { type: 'string', default: '127.0.0.1:0' } },
});
const variant = values.variant as Variant;
if (!VARIANTS.includes(variant)) throw new Error(`--variant must be one of ${VARIANTS.join(', ')}`);
const address = values.grpc!;

if (variant.startsWith('grpc-js/')) {
  const codec =
    variant === 'grpc-js/static'
      ? await staticCodec()
      : variant === 'grpc-js/hand'
        ? handCodec
        : reflectionCodec();
  // channelz keeps per-call counters and timestamps for grpc-js's introspection service.
  const server = grpcJsServer(codec, variant === 'grpc-js/no-channelz' ? { 'grpc.enable_channelz': 0 } : {});
  server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    logReady({
      grpc: address.startsWith('unix:') ? address : `${address.slice(0, address.lastIndexOf(':'))}:${port}`,
    });
  });
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
} else if (variant === 'connect-node') {
  listenHttp2(connectServer(), address);
} else {
  listenHttp2(http2Server(reflectionCodec()), address);
}
