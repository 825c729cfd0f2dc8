// `gatehouse serve` as a real process: the ready line carries the chosen ports; SIGTERM during
// in-flight requests answers all of them and exits 0; bad policies and bad config exit non-zero.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTO_PATH } from '../../server/src/transport/grpc/proto.js';
import { DATA_YAML, SCHEMA_YAML } from '../service/fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON; the assertions check their shape
type Json = Record<string, any>;

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-serve-'));
  writeFileSync(join(dir, 'schema.yaml'), SCHEMA_YAML);
  writeFileSync(join(dir, 'data.yaml'), DATA_YAML);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startServe(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', 'server/src/cli/main.ts', 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
}

function readyLine(child: ChildProcessWithoutNullStreams): Promise<{ http: string; grpc: string }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; http?: string; grpc?: string };
      if (entry.msg === 'ready') resolve({ http: entry.http!, grpc: entry.grpc! });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before ready`)));
  });
}

function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A check whose body arrives in two parts, `gapMs` apart: in flight on the server meanwhile. */
function slowCheck(
  http: string,
  user: string,
  sent: () => void,
  gapMs: number,
  agent?: Agent,
): Promise<{ status: number; body: string }> {
  const [host, port] = http.split(':') as [string, string];
  const body = JSON.stringify({
    resource: { objectType: 'document', objectId: 'plan' },
    permission: 'view',
    subject: { object: { objectType: 'user', objectId: user } },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        method: 'POST',
        path: '/v1/check',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.write(body.slice(0, 20));
    req.flushHeaders();
    sent();
    setTimeout(() => req.end(body.slice(20)), gapMs);
  });
}

describe('gatehouse serve process', () => {
  it('drains in-flight calls on SIGTERM, ends watch streams cleanly, and exits 0', async () => {
    const child = startServe([
      '--policies',
      dir,
      '--http',
      '127.0.0.1:0',
      '--grpc',
      '127.0.0.1:0',
      // Generous: the drain ends when the calls are answered; the grace only bounds a hang.
      '--shutdown-grace-ms',
      '30000',
    ]);
    const exited = exitCode(child);
    const { http, grpc: grpcAddress } = await readyLine(child);
    expect(http).toMatch(/^127\.0\.0\.1:\d+$/);

    const pkg = grpc.loadPackageDefinition(
      protoLoader.loadSync(PROTO_PATH, { enums: String, longs: String, oneofs: true }),
    ) as Json;
    const client = new pkg.gatehouse.v1.GatehouseService(grpcAddress, grpc.credentials.createInsecure());
    const watch = client.Watch({}) as grpc.ClientReadableStream<unknown>;
    const watchEnded = new Promise<grpc.StatusObject>((resolve) => watch.on('status', resolve));
    watch.on('error', () => undefined);
    const warm = await new Promise<Json>((resolve, reject) =>
      client.Check(
        {
          resource: { objectType: 'document', objectId: 'plan' },
          permission: 'view',
          subject: { object: { objectType: 'user', objectId: 'alice' } },
        },
        (err: Error | null, res: Json) => (err === null ? resolve(res) : reject(err)),
      ),
    );
    expect(warm.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');

    const users = ['alice', 'bob', 'mallory', 'alice', 'bob'];
    // One kept-alive connection per call, opened (and accepted) by a first check: the drain must
    // answer a request on an open connection whenever its bytes arrive.
    const agents = users.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
    await Promise.all(users.map((u, i) => slowCheck(http, u, () => undefined, 0, agents[i])));
    let started = 0;
    let onAllSent: () => void = () => undefined;
    const allSent = new Promise<void>((resolve) => {
      onAllSent = resolve;
    });
    const inFlight = users.map((u, i) =>
      slowCheck(
        http,
        u,
        () => {
          if (++started === users.length) onAllSent();
        },
        300,
        agents[i],
      ),
    );
    await allSent;
    child.kill('SIGTERM');

    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map((a) => JSON.parse(a.body).permissionship)).toEqual([
      'PERMISSIONSHIP_HAS_PERMISSION',
      'PERMISSIONSHIP_HAS_PERMISSION',
      'PERMISSIONSHIP_NO_PERMISSION',
      'PERMISSIONSHIP_HAS_PERMISSION',
      'PERMISSIONSHIP_HAS_PERMISSION',
    ]);
    expect((await watchEnded).code).toBe(grpc.status.UNAVAILABLE);
    expect(await exited).toBe(0);
    client.close();
    for (const agent of agents) agent.destroy();
  });

  it('prints every policy problem and exits 1 on invalid policies', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'gatehouse-bad-'));
    writeFileSync(
      join(bad, 'schema.yaml'),
      'kind: schema\ntypes:\n  doc:\n    relations:\n      owner: usr\n      editor: grp\n',
    );
    const child = startServe(['--policies', bad, '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0']);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    expect(await exitCode(child)).toBe(1);
    expect(stderr).toMatch(/schema\.yaml:5:\d+: .*usr/);
    expect(stderr).toMatch(/schema\.yaml:6:\d+: .*grp/);
    rmSync(bad, { recursive: true, force: true });
  });

  it('exits 1 naming the address when a listener cannot bind', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const child = startServe(['--policies', dir, '--http', `127.0.0.1:${port}`, '--grpc', '127.0.0.1:0']);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    expect(await exitCode(child)).toBe(1);
    expect(stderr).toContain(`HTTP cannot listen on 127.0.0.1:${port}`);
    taken.close();
  });

  it('exits 64 listing every config problem', async () => {
    const child = startServe(['--policies', dir, '--http', '0.0.0.0:0', '--max-batch-size', 'many']);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    expect(await exitCode(child)).toBe(64);
    expect(stderr).toMatch(/--max-batch-size: must be a whole number/);
    expect(stderr).toMatch(/refusing to serve http on 0\.0\.0\.0:0/);
  });
});
