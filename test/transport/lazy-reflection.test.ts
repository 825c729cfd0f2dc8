// Server reflection loaded on its first call (server/src/transport/grpc/lazy-reflection.ts): the
// package definition is not built until a reflection call arrives, calls racing with the load,
// both protocol versions and several requests on one stream are answered, a cancelled first call
// leaves the server serving, a failed load is reported and retried, and bytes that do not decode
// end the call with INVALID_ARGUMENT.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { addLazyReflection } from '../../server/src/transport/grpc/lazy-reflection.js';
import { reflectionPackageDefinition } from '../../server/src/transport/grpc/proto.js';
import { askReflection, rawReflectionCall } from './reflection-client.js';

/** list_services (field 7, an empty string), as bytes on the wire. */
const LIST_SERVICES = Buffer.from([0x3a, 0x00]);

const servers: grpc.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.forceShutdown();
});

/**
 * A bare grpc-js server with lazy reflection only, bound to a free loopback port. `failFirst`
 * makes the first build of the package definition throw; load errors are collected.
 */
async function reflectingServer(
  failFirst = false,
): Promise<{ address: string; built: () => number; loadErrors: unknown[] }> {
  const server = new grpc.Server();
  servers.push(server);
  let built = 0;
  const loadErrors: unknown[] = [];
  addLazyReflection(
    server,
    () => {
      built++;
      if (failFirst && built === 1) throw new Error('proto file unreadable');
      return reflectionPackageDefinition();
    },
    (err) => loadErrors.push(err),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err === null ? resolve(p) : reject(err),
    ),
  );
  return { address: `127.0.0.1:${port}`, built: () => built, loadErrors };
}

describe('server reflection loaded on its first call', () => {
  it('keeps serving reflection after its first call is cancelled by the client', async () => {
    const { address, built } = await reflectingServer();
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const first = rawReflectionCall(client);
      const ended = new Promise<grpc.ServiceError>((resolve) => first.once('error', resolve));
      first.on('data', () => {});
      first.write(LIST_SERVICES);
      first.cancel();
      expect((await ended).code).toBe(grpc.status.CANCELLED);
      // The same server answers the next reflection call.
      const again = rawReflectionCall(client);
      const answer = new Promise<Buffer>((resolve, reject) => {
        again.once('data', resolve);
        again.once('error', reject);
      });
      again.write(LIST_SERVICES);
      expect((await answer).length).toBeGreaterThan(0);
      again.end();
      expect(built()).toBe(1);
    } finally {
      client.close();
    }
  });

  it('builds nothing until asked, then answers calls that raced with the load', async () => {
    const { address, built } = await reflectingServer();
    expect(built()).toBe(0);
    const [v1, v1alpha, both] = await Promise.all([
      askReflection(address, [{ listServices: '' }]),
      askReflection(address, [{ listServices: '' }], 'v1alpha'),
      askReflection(address, [{ listServices: '' }, { fileContainingSymbol: 'gatehouse.v1.CheckRequest' }]),
    ]);
    expect(built()).toBe(1);
    for (const answers of [v1, v1alpha]) {
      expect(answers).toHaveLength(1);
      expect(answers[0]?.listServicesResponse.service.map((s: { name: string }) => s.name)).toContain(
        'gatehouse.v1.GatehouseService',
      );
    }
    // One stream, two requests: answered in the order asked.
    expect(both.map((a) => a.messageResponse)).toEqual(['listServicesResponse', 'fileDescriptorResponse']);
    await askReflection(address, [{ listServices: '' }]);
    expect(built()).toBe(1);
  });

  it('ends a call whose load failed with INTERNAL, reports the cause, and loads again on the next call', async () => {
    const { address, built, loadErrors } = await reflectingServer(true);
    const failure = await askReflection(address, [{ listServices: '' }]).then(
      () => undefined,
      (err: grpc.ServiceError) => err,
    );
    expect(failure?.code).toBe(grpc.status.INTERNAL);
    expect(loadErrors.map((e) => (e as Error).message)).toEqual(['proto file unreadable']);
    const [answer] = await askReflection(address, [{ listServices: '' }]);
    expect(answer?.listServicesResponse.service.map((s: { name: string }) => s.name)).toContain(
      'gatehouse.v1.GatehouseService',
    );
    expect(built()).toBe(2);
    expect(loadErrors).toHaveLength(1);
  });

  it('ends a call whose request does not decode with INVALID_ARGUMENT', async () => {
    const { address } = await reflectingServer();
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const call = rawReflectionCall(client);
      const failed = new Promise<grpc.ServiceError>((resolve) => {
        call.on('data', () => {});
        call.once('error', resolve);
      });
      // Field 1 (host), length-delimited, whose length runs past the end of the message.
      call.write(Buffer.from([0x0a, 0x7f, 0x61]));
      expect((await failed).code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      client.close();
    }
  });
});
