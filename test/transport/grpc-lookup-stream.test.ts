// LookupResources over a real gRPC server and client: a client that stops reading holds the
// server's page production (HTTP/2 flow control reaches the service), and a client that cancels
// stops it. The service's sink is observed, not timed: how many pages it was handed, and when.
import { setImmediate as nextTurn } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type GatehouseConfig } from '../../server/src/config/config.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import type { LookupPageSink } from '../../server/src/service/lookup-page-sink.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { PROTO_PATH } from '../../server/src/transport/grpc/proto.js';
import { fixturePolicySet } from '../service/fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON
type Any = Record<string, any>;

// Long ids and many pages: far more bytes than HTTP/2 windows and grpc-js buffers hold.
const DOCUMENTS = 20_000;
const PAGE = 100;
const PAGES = DOCUMENTS / PAGE;
const docId = (i: number): string => `d${String(i).padStart(5, '0')}-${'x'.repeat(90)}`;

let server: GatehouseServer;
let client: grpc.Client & Any;

/** What the service handed the transport in the current test. */
let produced: { pages: number; waits: number; finished: Promise<void> | undefined };
let onWait: (() => void) | undefined;

beforeAll(async () => {
  const set = fixturePolicySet();
  const relationships = set.relationships.map((r) => r.relationship);
  for (let i = 0; i < DOCUMENTS; i++) {
    relationships.push(parseRelationship(`document:${docId(i)}#viewer@user:carol`));
  }
  const config: GatehouseConfig = {
    ...DEFAULT_CONFIG,
    http: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    grpc: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    openScopes: ['check', 'read'],
    limits: { ...DEFAULT_CONFIG.limits, maxPageSize: PAGE },
  };
  // Count the pages the service hands to the gRPC sink, and its waits for the sink to drain.
  const stream = GatehouseService.prototype.streamLookupResources;
  vi.spyOn(GatehouseService.prototype, 'streamLookupResources').mockImplementation(function (
    this: GatehouseService,
    params,
    ctx,
    sink,
  ) {
    const observed: LookupPageSink = {
      write: (page) => {
        produced.pages++;
        return sink.write(page);
      },
      ready: () => {
        produced.waits++;
        onWait?.();
        return sink.ready();
      },
      get closed() {
        return sink.closed;
      },
    };
    const finished = stream.call(this, params, ctx, observed);
    produced.finished = finished;
    return finished;
  });
  server = await GatehouseServer.start({
    config,
    schema: set.schema,
    store: MemoryStore.withRelationships(relationships),
    logger: pino({ level: 'silent' }),
  });
  const pkg = grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO_PATH, { keepCase: false, longs: String, enums: String, defaults: true }),
  ) as Any;
  client = new pkg.gatehouse.v1.GatehouseService(server.grpcAddress, grpc.credentials.createInsecure());
});

afterAll(async () => {
  vi.restoreAllMocks();
  client?.close();
  await server?.stop(1000);
});

beforeEach(() => {
  produced = { pages: 0, waits: 0, finished: undefined };
  onWait = undefined;
});

async function serviceFinished(): Promise<void> {
  await vi.waitUntil(() => produced.finished !== undefined, { timeout: 60_000 });
  await produced.finished;
}

function lookup(): grpc.ClientReadableStream<Any> {
  return client.LookupResources(
    {
      resourceObjectType: 'document',
      permission: 'view',
      subject: { object: { objectType: 'user', objectId: 'carol' } },
      pageSize: PAGE,
    },
    new grpc.Metadata(),
    { deadline: Date.now() + 60_000 },
  );
}

describe('LookupResources over gRPC', () => {
  it('holds page production while the client is not reading, and makes every page once it reads', async () => {
    const call = lookup();
    const waiting = new Promise<void>((resolve) => {
      onWait = resolve;
    });
    const ids: string[] = [];
    let messages = 0;
    call.on('data', (m: Any) => {
      messages++;
      ids.push(...m.resourceObjectIds);
      if (messages === 1) call.pause();
    });
    const ended = new Promise<void>((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', reject);
    });
    // The client holds its first message unread: the server's buffers fill and it waits (a
    // server deaf to flow control would instead make every page, and finish).
    let finished = false;
    const finishing = serviceFinished().then(() => {
      finished = true;
    });
    await Promise.race([waiting, finishing]);
    for (let i = 0; i < 100 && !finished; i++) await nextTurn();
    expect(finished).toBe(false);
    expect(produced.pages).toBeLessThan(PAGES);
    call.resume();
    await ended;
    expect(messages).toBe(PAGES);
    expect(produced.pages).toBe(PAGES);
    expect(ids).toEqual(Array.from({ length: DOCUMENTS }, (_, i) => docId(i)));
  });

  it('stops making pages when the client cancels', async () => {
    const call = lookup();
    const failed = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.on('data', () => call.cancel());
    expect((await failed).code).toBe(grpc.status.CANCELLED);
    await serviceFinished();
    expect(produced.pages).toBeLessThan(PAGES);
  });
});
