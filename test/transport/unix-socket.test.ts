// Both listeners on unix domain sockets, the natural channel inside one pod.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../server/src/config/config.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { PROTO_PATH } from '../../server/src/transport/grpc/proto.js';
import { fixturePolicySet } from '../service/fixture.js';

let dir: string;
let server: GatehouseServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-sock-'));
  // A socket file left behind by a crashed process must not block the next start.
  const crashed = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(join(dir, 'grpc.sock'))}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  await new Promise((resolve) => crashed.once('exit', resolve));
  expect(statSync(join(dir, 'grpc.sock')).isSocket()).toBe(true);
  const set = fixturePolicySet();
  server = await GatehouseServer.start({
    config: {
      ...DEFAULT_CONFIG,
      http: { kind: 'unix', path: join(dir, 'http.sock') },
      grpc: { kind: 'unix', path: join(dir, 'grpc.sock') },
    },
    schema: set.schema,
    store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await server.stop(500);
  rmSync(dir, { recursive: true, force: true });
});

const checkBody = {
  resource: { objectType: 'document', objectId: 'readme' },
  permission: 'view',
  subject: { object: { objectType: 'user', objectId: 'alice' } },
};

it('reports the socket addresses and answers HTTP over the unix socket', async () => {
  expect(server.httpAddress).toBe(`unix:${join(dir, 'http.sock')}`);
  expect(statSync(join(dir, 'http.sock')).isSocket()).toBe(true);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        socketPath: join(dir, 'http.sock'),
        method: 'POST',
        path: '/v1/check',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(checkBody));
  });
  expect(JSON.parse(body).permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
});

it('answers gRPC over the unix socket', async () => {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, { enums: String })) as Record<
    string,
    // biome-ignore lint/suspicious/noExplicitAny: the generated client is dynamic
    any
  >;
  const client = new pkg.gatehouse.v1.GatehouseService(server.grpcAddress, grpc.credentials.createInsecure());
  const res = await new Promise<{ permissionship: string }>((resolve, reject) =>
    client.Check(checkBody, (err: Error | null, r: { permissionship: string }) =>
      err === null ? resolve(r) : reject(err),
    ),
  );
  expect(res.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
  client.close();
});

it('refuses to start on a socket another live instance answers on, and leaves that one serving', async () => {
  const set = fixturePolicySet();
  const second = GatehouseServer.start({
    config: {
      ...DEFAULT_CONFIG,
      http: { kind: 'unix', path: join(dir, 'http.sock') },
      grpc: { kind: 'unix', path: join(dir, 'grpc.sock') },
    },
    schema: set.schema,
    store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
    logger: pino({ level: 'silent' }),
  });
  await expect(second).rejects.toThrow(/another process is listening on .*\.sock/);
  // The first still answers on its socket.
  const status = await new Promise<number>((resolve, reject) => {
    request({ socketPath: join(dir, 'http.sock'), path: '/healthz' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
  expect(status).toBe(200);
});
