// Server reflection loaded on its first call (server/src/transport/grpc/lazy-reflection.ts): the
// package definition is not built until a reflection call arrives, calls racing with the load,
// both protocol versions and several requests on one stream are answered, and bytes that do not
// decode end the call with INVALID_ARGUMENT.
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLazyReflection } from '../../server/src/transport/grpc/lazy-reflection.js';
import { reflectionPackageDefinition } from '../../server/src/transport/grpc/proto.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON; the assertions check their shape
type Any = Record<string, any>;
const LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

let server: grpc.Server;
let address: string;
let definitionsBuilt = 0;

beforeAll(async () => {
  server = new grpc.Server();
  addLazyReflection(server, () => {
    definitionsBuilt++;
    return reflectionPackageDefinition();
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err === null ? resolve(p) : reject(err),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(() => {
  server.forceShutdown();
});

/** Requests on one ServerReflectionInfo stream; resolves to the answers in order. */
async function ask(requests: readonly Any[], version: 'v1' | 'v1alpha' = 'v1'): Promise<Any[]> {
  const require = createRequire(import.meta.url);
  const proto = require.resolve(`@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`);
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto, LOADER_OPTIONS)) as Any;
  const reflection = new pkg.grpc.reflection[version].ServerReflection(
    address,
    grpc.credentials.createInsecure(),
  );
  try {
    const stream = reflection.ServerReflectionInfo();
    const answers: Any[] = [];
    const done = new Promise<Any[]>((resolve, reject) => {
      stream.on('data', (answer: Any) => answers.push(answer));
      stream.once('end', () => resolve(answers));
      stream.once('error', reject);
    });
    for (const request of requests) stream.write(request);
    stream.end();
    return await done;
  } finally {
    reflection.close();
  }
}

describe('server reflection loaded on its first call', () => {
  it('leaves the server serving when the first call is cancelled while the library loads', async () => {
    const fresh = new grpc.Server();
    let built = 0;
    addLazyReflection(fresh, () => {
      built++;
      return reflectionPackageDefinition();
    });
    const port = await new Promise<number>((resolve, reject) =>
      fresh.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err === null ? resolve(p) : reject(err),
      ),
    );
    const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const stream = raw.makeBidiStreamRequest(
        '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
        (b: Buffer) => b,
        (b: Buffer) => b,
      );
      const ended = new Promise<grpc.ServiceError>((resolve) => stream.once('error', resolve));
      stream.on('data', () => {});
      // list_services, then cancel at once: the server is still loading the library.
      stream.write(Buffer.from([0x3a, 0x00]));
      stream.cancel();
      expect((await ended).code).toBe(grpc.status.CANCELLED);
      // The same server still answers a reflection call afterwards.
      const again = raw.makeBidiStreamRequest(
        '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
        (b: Buffer) => b,
        (b: Buffer) => b,
      );
      const answer = new Promise<Buffer>((resolve, reject) => {
        again.once('data', resolve);
        again.once('error', reject);
      });
      again.write(Buffer.from([0x3a, 0x00]));
      expect((await answer).length).toBeGreaterThan(0);
      again.end();
      expect(built).toBe(1);
    } finally {
      raw.close();
      fresh.forceShutdown();
    }
  });

  it('builds nothing until asked, then answers calls that raced with the load', async () => {
    expect(definitionsBuilt).toBe(0);
    const [v1, v1alpha, both] = await Promise.all([
      ask([{ listServices: '' }]),
      ask([{ listServices: '' }], 'v1alpha'),
      ask([{ listServices: '' }, { fileContainingSymbol: 'gatehouse.v1.CheckRequest' }]),
    ]);
    expect(definitionsBuilt).toBe(1);
    for (const answers of [v1, v1alpha]) {
      expect(answers).toHaveLength(1);
      expect(answers[0]?.listServicesResponse.service.map((s: Any) => s.name)).toContain(
        'gatehouse.v1.GatehouseService',
      );
    }
    // One stream, two requests: answered in the order asked.
    expect(both.map((a) => a.messageResponse)).toEqual(['listServicesResponse', 'fileDescriptorResponse']);
    await ask([{ listServices: '' }]);
    expect(definitionsBuilt).toBe(1);
  });

  it('ends a call whose request does not decode with INVALID_ARGUMENT', async () => {
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const stream = raw.makeBidiStreamRequest(
        '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
        (b: Buffer) => b,
        (b: Buffer) => b,
      );
      const failed = new Promise<grpc.ServiceError>((resolve) => {
        stream.on('data', () => {});
        stream.once('error', resolve);
      });
      // Field 1 (host), length-delimited, whose length runs past the end of the message.
      stream.write(Buffer.from([0x0a, 0x7f, 0x61]));
      expect((await failed).code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      raw.close();
    }
  });
});
