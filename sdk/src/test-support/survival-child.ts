// Test support: a child process (run under --unhandled-rejections=strict) that makes every public SDK call
// with aborted signals and against failing servers, printing one JSON line per outcome; it must not crash.
//
// Run as `node --unhandled-rejections=strict --import tsx survival-child.ts`. With GATEHOUSE_GRPC and
// GATEHOUSE_HTTP set (a real `gatehouse serve`), it runs the abort scenarios against that server;
// otherwise it starts fake servers and adds the failure scenarios (unreachable, malformed, dropped).
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { GatehouseClient } from '../client.js';
import { GatehouseError } from '../errors.js';
import { createGrpcTransport } from '../grpc/index.js';
import { createHttpTransport } from '../http/index.js';
import type { Transport, WireMessage } from '../transport.js';
import type { FakeBackend, FakeServer } from './fake-backend.js';
import { startFakeGrpcServer } from './fake-grpc-server.js';
import { startFakeHttpServer } from './fake-http-server.js';

type Kind = 'grpc' | 'http';

/** One public SDK call, made with `signal`; resolves with 'resolved' or 'ended' (watch), or rejects. */
interface Operation {
  readonly name: string;
  /** Watch ends quietly when its signal aborts (documented); every other call rejects. */
  readonly stream?: 'watch' | 'read';
  run(client: GatehouseClient, signal?: AbortSignal): Promise<string>;
}

const CHECK = 'doc:a#view@user:u';
const OBJECT_TYPE = 'doc';

const OPERATIONS: readonly Operation[] = [
  { name: 'check', run: (c, signal) => c.check(CHECK, { signal }).then(() => 'resolved') },
  {
    name: 'checkBatch',
    run: (c, signal) => c.checkBatch([CHECK, CHECK], { signal }).then(() => 'resolved'),
  },
  { name: 'explain', run: (c, signal) => c.explain(CHECK, { signal }).then(() => 'resolved') },
  {
    name: 'lookupSubjects',
    run: (c, signal) =>
      c
        .lookupSubjects({ resource: 'doc:a', permission: 'view', subjectType: 'user' }, { signal })
        .then(() => 'resolved'),
  },
  {
    name: 'lookupResources.toArray',
    stream: 'read',
    run: (c, signal) =>
      c
        .lookupResources({ resourceType: OBJECT_TYPE, permission: 'view', subject: 'user:u' }, { signal })
        .toArray()
        .then(() => 'resolved'),
  },
  {
    name: 'lookupResources.pages',
    stream: 'read',
    run: async (c, signal) => {
      const lookup = c.lookupResources(
        { resourceType: OBJECT_TYPE, permission: 'view', subject: 'user:u', pageSize: 1 },
        { signal },
      );
      for await (const _ of lookup.pages());
      return 'resolved';
    },
  },
  {
    name: 'read',
    stream: 'read',
    run: (c, signal) =>
      c
        .read({ filter: { resourceType: OBJECT_TYPE } }, { signal })
        .toArray()
        .then(() => 'resolved'),
  },
  {
    name: 'write',
    run: (c, signal) => c.write({ touch: ['doc:a#viewer@user:u'] }, { signal }).then(() => 'resolved'),
  },
  {
    name: 'deleteRelationships',
    run: (c, signal) =>
      c
        .deleteRelationships({ filter: { resourceType: OBJECT_TYPE, resourceId: 'nothing' } }, { signal })
        .then(() => 'resolved'),
  },
  {
    name: 'deleteObject',
    run: (c, signal) => c.deleteObject('doc:nothing', { signal }).then(() => 'resolved'),
  },
  { name: 'readSchema', run: (c, signal) => c.readSchema({ signal }).then(() => 'resolved') },
  {
    name: 'validatePolicies',
    run: (c, signal) =>
      c.validatePolicies([{ path: 'x.yaml', content: 'kind: schema' }], { signal }).then(() => 'resolved'),
  },
  {
    name: 'watch',
    stream: 'watch',
    run: async (c, signal) => {
      for await (const _ of c.watch({ signal }));
      return 'ended';
    },
  },
];

function report(scenario: string, kind: Kind, op: string, outcome: string): void {
  process.stdout.write(`${JSON.stringify({ scenario, kind, op, outcome })}\n`);
}

async function outcomeOf(promise: Promise<string>): Promise<string> {
  try {
    return await promise;
  } catch (err) {
    return err instanceof GatehouseError ? err.name : `NOT-A-GATEHOUSE-ERROR ${String(err)}`;
  }
}

function transportFor(kind: Kind, address: string): Transport {
  return kind === 'grpc'
    ? createGrpcTransport({ address, token: 'secret' })
    : createHttpTransport({
        baseUrl: address.startsWith('http') ? address : `http://${address}`,
        token: 'secret',
      });
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Pre-aborted signals: every call rejects with CancelledError (watch ends) and nothing reaches the server. */
async function preAborted(kind: Kind, address: string, batching: boolean): Promise<void> {
  const client = new GatehouseClient(transportFor(kind, address), { batching });
  for (const op of OPERATIONS) {
    const controller = new AbortController();
    controller.abort(new Error('caller went away'));
    report(
      `pre-aborted${batching ? '' : ' unbatched'}`,
      kind,
      op.name,
      await outcomeOf(op.run(client, controller.signal)),
    );
  }
  await client.close();
}

/** Aborted in the same turn as the call: before any answer can arrive, whatever the server. */
async function abortedAtOnce(kind: Kind, address: string, batching: boolean): Promise<void> {
  const client = new GatehouseClient(transportFor(kind, address), { batching });
  for (const op of OPERATIONS) {
    const controller = new AbortController();
    const pending = outcomeOf(op.run(client, controller.signal));
    controller.abort();
    report(`aborted at once${batching ? '' : ' unbatched'}`, kind, op.name, await pending);
  }
  await client.close();
}

/** A backend whose every answer waits until `release()` or the client cancels. */
function hangingBackend(): { backend: FakeBackend; release(): void } {
  let release = (): void => undefined;
  let released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const wait = (signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      void released.then(resolve);
    });
  const allowed = { permissionship: 'PERMISSIONSHIP_HAS_PERMISSION', checkedAt: { token: 't' } };
  const answer =
    (message: WireMessage | ((request: WireMessage) => WireMessage)) =>
    async ({ signal, request }: { signal: AbortSignal; request: WireMessage }): Promise<WireMessage> => {
      await wait(signal);
      return typeof message === 'function' ? message(request) : message;
    };
  const backend: FakeBackend = {
    unary: {
      Check: answer(allowed),
      CheckBatch: answer((request) => ({
        results: (request.items as unknown[]).map(() => ({
          permissionship: 'PERMISSIONSHIP_HAS_PERMISSION',
        })),
        checkedAt: { token: 't' },
      })),
      Explain: answer(allowed),
      LookupSubjects: answer({}),
      ReadRelationships: answer({}),
      WriteRelationships: answer({ writtenAt: { token: 't' } }),
      DeleteRelationships: answer({ deletedAt: { token: 't' } }),
      DeleteObject: answer({ deletedAt: { token: 't' } }),
      ReadSchema: answer({ schemaJson: '{}' }),
      ValidatePolicies: answer({ valid: true }),
    },
    stream: {
      LookupResources: async function* ({ signal }) {
        await wait(signal);
        yield { resourceObjectIds: ['a'] };
      },
      // biome-ignore lint/correctness/useYield: a watch on which nothing changes
      Watch: async function* ({ signal }) {
        await wait(signal);
      },
    },
  };
  return {
    backend,
    release: () => {
      release();
      released = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
  };
}

/** Aborted while the server holds the call: every call rejects with CancelledError (watch ends). */
async function abortedMidFlight(kind: Kind, server: FakeServer, batching: boolean): Promise<void> {
  // A generous deadline: the call must be ended by the abort, however long it took to arrive.
  const client = new GatehouseClient(transportFor(kind, server.address), {
    batching,
    defaultTimeoutMs: 60_000,
  });
  for (const op of OPERATIONS) {
    const controller = new AbortController();
    const before = server.calls.length;
    const pending = outcomeOf(op.run(client, controller.signal));
    await waitFor(() => server.calls.length > before, `${op.name} to reach the server`);
    controller.abort();
    report(`aborted mid-flight${batching ? '' : ' unbatched'}`, kind, op.name, await pending);
  }
  await client.close();
}

/** One of three batched checks aborts mid-flight; it rejects, the other two are answered. */
async function abortedInBatch(kind: Kind, server: FakeServer, release: () => void): Promise<void> {
  const client = new GatehouseClient(transportFor(kind, server.address), { defaultTimeoutMs: 60_000 });
  const controller = new AbortController();
  const before = server.calls.length;
  const outcomes = [
    outcomeOf(client.check(CHECK).then(() => 'resolved')),
    outcomeOf(client.check(CHECK, { signal: controller.signal }).then(() => 'resolved')),
    outcomeOf(client.check(CHECK).then(() => 'resolved')),
  ];
  await waitFor(() => server.calls.length > before, 'the batch to reach the server');
  controller.abort();
  const aborted = await outcomes[1];
  release();
  const [first, , third] = await Promise.all(outcomes);
  report('aborted in a batch', kind, 'check (aborted member)', aborted ?? 'missing');
  report(
    'aborted in a batch',
    kind,
    'check (other members)',
    first === third ? (first ?? 'missing') : `${first}/${third}`,
  );
  await client.close();
}

/** Every call, against `address`, must reject with a GatehouseError whatever the failure. */
async function failingServer(scenario: string, kind: Kind, address: string, ops = OPERATIONS): Promise<void> {
  const client = new GatehouseClient(transportFor(kind, address), {
    retries: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 },
    // Generous: the failure under test, not the deadline, must end every call on a slow machine.
    defaultTimeoutMs: 60_000,
  });
  for (const op of ops) report(scenario, kind, op.name, await outcomeOf(op.run(client)));
  // Calls still queued or in flight when the client closes must settle quietly too.
  const late = Promise.all([outcomeOf(client.check(CHECK).then(() => 'resolved')), client.close()]);
  report(scenario, kind, 'check racing close', (await late)[0]);
}

async function freeAddress(): Promise<string> {
  const server = await startFakeHttpServer({});
  const port = new URL(server.address).port;
  await server.close();
  return `127.0.0.1:${port}`;
}

/** An HTTP server whose every 2xx answer is broken: not JSON, wrong shapes, cut short. */
async function malformedHttp(): Promise<FakeServer> {
  let n = 0;
  return startFakeHttpServer({}, (req, res) => {
    n++;
    if (req.url === '/v1/watch') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"changes": [1, "x"], "changesThrough": 7}\nnot json\n');
    } else if (n % 3 === 0) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"permissionship": ');
      setTimeout(() => res.destroy(), 20);
    } else if (n % 3 === 1) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>not json</html>');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"permissionship": 42, "results": "many", "schemaJson": "{", "nextCursor": 5}');
    }
    return true;
  });
}

/** A gRPC fake whose answers are well-formed protobuf with meaningless content. */
async function nonsenseGrpc(): Promise<FakeServer> {
  const empty = (): WireMessage => ({});
  return startFakeGrpcServer({
    unary: {
      Check: empty,
      CheckBatch: () => ({ results: [{}] }),
      Explain: empty,
      LookupSubjects: empty,
      ReadRelationships: () => ({ nextCursor: '' }),
      WriteRelationships: empty,
      DeleteRelationships: empty,
      DeleteObject: empty,
      ReadSchema: () => ({ schemaJson: 'not json' }),
      ValidatePolicies: empty,
    },
    stream: {
      LookupResources: async function* () {
        yield {};
      },
      Watch: async function* () {
        yield {};
      },
    },
  });
}

/** A raw HTTP/2 server answering every gRPC call with bytes that are not the expected message. */
async function garbageGrpc(): Promise<{ address: string; close(): Promise<void> }> {
  const server: Http2Server = createHttp2Server();
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    // A frame header announcing 9 bytes, then 9 bytes that are no valid protobuf message.
    stream.end(Buffer.from([0, 0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Streams that send one message and then lose their connection. */
async function droppingServer(kind: Kind): Promise<FakeServer> {
  const page = { resourceObjectIds: ['a'], nextCursor: 'more' };
  const event = { changes: [], changesThrough: { token: 't1' } };
  if (kind === 'http') {
    return startFakeHttpServer({}, (req, res) => {
      if (req.url === '/v1/watch') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write(`${JSON.stringify(event)}\n`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write(JSON.stringify(page).slice(0, 10));
      }
      setTimeout(() => res.destroy(), 20);
      return true;
    });
  }
  let server: FakeServer | undefined;
  const dropSoon = (): void => void setTimeout(() => server?.kill(), 20);
  server = await startFakeGrpcServer({
    stream: {
      LookupResources: async function* () {
        yield page;
        dropSoon();
        await new Promise(() => undefined);
      },
      Watch: async function* () {
        yield event;
        dropSoon();
        await new Promise(() => undefined);
      },
    },
  });
  return server;
}

async function main(): Promise<void> {
  const real = { grpc: process.env.GATEHOUSE_GRPC, http: process.env.GATEHOUSE_HTTP };
  for (const kind of ['grpc', 'http'] as const) {
    const realAddress = real[kind];
    if (realAddress !== undefined) {
      for (const batching of [true, false]) {
        await preAborted(kind, realAddress, batching);
        await abortedAtOnce(kind, realAddress, batching);
      }
      continue;
    }
    const { backend, release } = hangingBackend();
    const server = kind === 'grpc' ? await startFakeGrpcServer(backend) : await startFakeHttpServer(backend);
    for (const batching of [true, false]) {
      await preAborted(kind, server.address, batching);
      await abortedAtOnce(kind, server.address, batching);
      await abortedMidFlight(kind, server, batching);
    }
    await abortedInBatch(kind, server, release);
    release();
    await server.close();

    await failingServer('unreachable', kind, await freeAddress());
    const malformed = kind === 'grpc' ? await nonsenseGrpc() : await malformedHttp();
    await failingServer('malformed answers', kind, malformed.address);
    await malformed.close();
    if (kind === 'grpc') {
      const garbage = await garbageGrpc();
      await failingServer('garbage bytes', kind, garbage.address);
      await garbage.close();
    }
    for (const op of OPERATIONS.filter((o) => o.name.startsWith('lookupResources') || o.name === 'watch')) {
      const dropping = await droppingServer(kind);
      await failingServer('dropped mid-stream', kind, dropping.address, [op]);
      dropping.kill();
    }
  }
  // Late rejections surface within a few turns; give them time to kill the process if any is unhandled.
  await new Promise((resolve) => setTimeout(resolve, 500));
  process.stdout.write('survived\n');
}

await main();
