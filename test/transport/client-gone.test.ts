// What a caller can do to the servers without a token must never look like a Gatehouse bug:
// a client that goes away mid-request is CANCELLED (debug log, no stack), and a request that is
// not valid protobuf is INVALID_ARGUMENT, counted and logged by Gatehouse like any bad input.
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type GatehouseConfig } from '../../server/src/config/config.js';
import { encodeRevisionToken } from '../../server/src/service/revision-token.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { PROTO_PATH } from '../../server/src/transport/grpc/proto.js';
import { fixturePolicySet } from '../service/fixture.js';
import { LaggingStore } from '../service/lagging-store.js';
import { PATIENCE } from '../support/wait-until.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON
type Json = any;

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly code?: string;
  readonly err?: unknown;
}

const logged: LogLine[] = [];
let server: GatehouseServer;
let store: LaggingStore;
let pkg: Json;

beforeAll(async () => {
  const set = fixturePolicySet();
  store = new LaggingStore(MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)));
  const config: GatehouseConfig = {
    ...DEFAULT_CONFIG,
    http: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    grpc: { kind: 'tcp', host: '127.0.0.1', port: 0 },
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line));
      done();
    },
  });
  server = await GatehouseServer.start({
    config,
    schema: set.schema,
    store,
    logger: pino({ level: 'debug' }, sink),
  });
  pkg = grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO_PATH, { keepCase: false, longs: String, enums: String, oneofs: true }),
  );
});

afterAll(async () => {
  await server?.stop(1000);
});

async function errorCounts(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${server.httpAddress}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^gatehouse_request_errors_total\{transport="(\w+)",method="(\w+)",code="(\w+)"\} (\d+)/.exec(
      line,
    );
    if (m !== null) counts.set(`${m[1]} ${m[2]} ${m[3]}`, Number(m[4]));
  }
  return counts;
}

const errorLogs = (): LogLine[] => logged.filter((l) => l.level >= 50);

describe('a client that goes away', () => {
  it('over HTTP, mid-body: counted as CANCELLED, logged at debug without a stack', async () => {
    const [host, port] = server.httpAddress.split(':') as [string, string];
    const socket = connect(Number(port), host);
    await new Promise((resolve) => socket.once('connect', resolve));
    // `expect: 100-continue`: the server answers "100 Continue" once it has parsed the headers and
    // handed the request on, so the client knows (no timing assumed) that the call is in flight.
    const continued = new Promise<string>((resolve) =>
      socket.once('data', (b: Buffer) => resolve(b.toString())),
    );
    socket.write(
      'POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nexpect: 100-continue\r\n\r\n',
    );
    expect(await continued).toMatch(/^HTTP\/1\.1 100 Continue/);
    // Part of the body, then the client leaves.
    socket.write('{"resou');
    await new Promise((resolve) => setImmediate(resolve));
    socket.destroy();
    await vi.waitFor(async () => expect((await errorCounts()).get('http Check CANCELLED')).toBe(1), PATIENCE);
    const counts = await errorCounts();
    expect(counts.get('http Check INTERNAL')).toBeUndefined();
    expect(errorLogs()).toEqual([]);
    const line = logged.find((l) => l.code === 'CANCELLED');
    expect(line?.level).toBe(20);
    expect(line?.err).toBeUndefined();
  });

  it('over gRPC, while its call waits for consistency: CANCELLED, no error log', async () => {
    const client = new pkg.gatehouse.v1.GatehouseService(
      server.grpcAddress,
      grpc.credentials.createInsecure(),
    );
    try {
      store.held = true;
      const change = await store.write([
        {
          operation: 'touch',
          relationship: {
            resource: { type: 'document', id: 'plan' },
            relation: 'viewer',
            subject: { type: 'user', id: 'late' },
          },
        },
      ]);
      const md = new grpc.Metadata();
      md.set('x-request-id', 'leaving');
      const call = client.Check(
        {
          resource: { objectType: 'document', objectId: 'plan' },
          permission: 'view',
          subject: { object: { objectType: 'user', objectId: 'late' } },
          consistency: {
            atLeastAsFresh: { token: encodeRevisionToken(change.revision, await store.identity()) },
          },
        },
        md,
        () => undefined,
      );
      // The request id comes back as the handler starts: the call is then waiting on the store.
      await new Promise((resolve) => call.once('metadata', resolve));
      call.cancel();
      await vi.waitFor(
        async () => expect((await errorCounts()).get('grpc Check CANCELLED')).toBe(1),
        PATIENCE,
      );
      store.release();
      expect((await errorCounts()).get('grpc Check INTERNAL')).toBeUndefined();
      expect(errorLogs()).toEqual([]);
    } finally {
      store.release();
      client.close();
    }
  });
});

describe('a request that is not protobuf', () => {
  it('over gRPC answers INVALID_ARGUMENT, counted and logged by Gatehouse', async () => {
    const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
    try {
      const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(
          '/gatehouse.v1.GatehouseService/Check',
          (b: Buffer) => b,
          (b: Buffer) => b,
          garbage,
          (e) => resolve(e),
        ),
      );
      expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err?.details).toMatch(/not a valid CheckRequest/);
      expect((await errorCounts()).get('grpc Check INVALID_ARGUMENT')).toBe(1);
      expect(logged.some((l) => l.code === 'INVALID_ARGUMENT' && l.level === 20)).toBe(true);
      expect(errorLogs()).toEqual([]);
    } finally {
      client.close();
    }
  });
});
