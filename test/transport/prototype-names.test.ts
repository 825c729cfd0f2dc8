// Inputs named like Object.prototype's members (`toString`, `__proto__`, `constructor`, …) in
// every field of every request, over HTTP and gRPC: each is a value like any other, answered or
// refused as a client error, never a 500/INTERNAL from a lookup that reached the prototype.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type GatehouseConfig } from '../../server/src/config/config.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { PROTO_PATH } from '../../server/src/transport/grpc/proto.js';
import { fixturePolicySet, TOKEN } from '../service/fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON
type Json = any;

const NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];

/** JSON texts for values whose own keys are prototype names (`__proto__` as a real JSON key). */
const OBJECT_TEXTS = [
  '{"toString":1}',
  '{"toString":"x","valueOf":"y"}',
  '{"constructor":{"prototype":1}}',
  '{"__proto__":{"toString":1}}',
];

const ref = (t: string, id: string) => ({ objectType: t, objectId: id });
const subject = { object: ref('group', 'eng'), optionalRelation: 'member' };
const filter = {
  resourceType: 'document',
  optionalResourceId: 'plan',
  optionalRelation: 'viewer',
  optionalSubjectType: 'user',
  optionalSubjectId: 'alice',
  optionalSubjectRelation: 'member',
};
const check = { resource: ref('document', 'plan'), permission: 'view', subject };
const consistency = { atLeastAsFresh: { token: 'GH1.x' } };

/** A representative request per method, each field set so every one of them gets replaced. */
const REQUESTS: Record<string, { path: string; grpc: string; body: Json }> = {
  Check: { path: '/v1/check', grpc: 'Check', body: { ...check, consistency } },
  CheckBatch: {
    path: '/v1/check/batch',
    grpc: 'CheckBatch',
    body: { items: [check], consistency: { fullyConsistent: true } },
  },
  LookupResources: {
    path: '/v1/lookup/resources',
    grpc: 'LookupResources',
    body: {
      resourceType: 'document',
      permission: 'view',
      subject,
      pageSize: 10,
      cursor: 'c',
      consistency: { minimizeLatency: true },
    },
  },
  LookupSubjects: {
    path: '/v1/lookup/subjects',
    grpc: 'LookupSubjects',
    body: {
      resource: ref('document', 'plan'),
      permission: 'view',
      subjectType: 'user',
      optionalSubjectRelation: 'member',
      consistency,
    },
  },
  Explain: { path: '/v1/explain', grpc: 'Explain', body: check },
  WriteRelationships: {
    path: '/v1/relationships/write',
    grpc: 'WriteRelationships',
    body: {
      updates: [
        {
          operation: 'OPERATION_TOUCH',
          relationship: { resource: ref('document', 'plan'), relation: 'viewer', subject },
        },
      ],
      preconditions: [{ operation: 'OPERATION_MUST_MATCH', filter }],
    },
  },
  DeleteRelationships: {
    path: '/v1/relationships/delete',
    grpc: 'DeleteRelationships',
    body: { filter, preconditions: [{ operation: 'OPERATION_MUST_NOT_MATCH', filter }] },
  },
  DeleteObject: { path: '/v1/objects/delete', grpc: 'DeleteObject', body: { object: ref('document', 'x') } },
  ReadRelationships: {
    path: '/v1/relationships/read',
    grpc: 'ReadRelationships',
    body: { filter, pageSize: 5, cursor: 'c', consistency },
  },
  ValidatePolicies: {
    path: '/v1/policies/validate',
    grpc: 'ValidatePolicies',
    body: { files: [{ path: 'schema.yaml', content: 'kind: schema\ntypes:\n  user: {}\n' }] },
  },
  Watch: { path: '/v1/watch', grpc: 'Watch', body: { optionalStartCursor: { token: 'GH1.x' } } },
};

type Path = readonly (string | number)[];

/** Every path in `v` to a value (leaves and messages alike), the root excluded. */
function paths(v: Json, at: Path = []): Path[] {
  if (v === null || typeof v !== 'object') return [];
  const out: Path[] = [];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  for (const k of keys) {
    out.push([...at, k]);
    out.push(...paths(v[k], [...at, k]));
  }
  return out;
}

/** Objects in `v` (root included), by path. */
function objectPaths(v: Json, at: Path = []): Path[] {
  if (v === null || typeof v !== 'object') return [];
  const own = Array.isArray(v) ? [] : [at];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [...own, ...keys.flatMap((k) => objectPaths(v[k], [...at, k]))];
}

function clone(v: Json): Json {
  return JSON.parse(JSON.stringify(v));
}

function setAt(body: Json, path: Path, value: Json): Json {
  const copy = clone(body);
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path.at(-1)!] = value;
  return copy;
}

function getAt(body: Json, path: Path): Json {
  let o = body;
  for (const k of path) o = o[k];
  return o;
}

const MARK = '"@@MARK@@"';

/** HTTP body texts: each field replaced by each prototype name and object, and prototype-named keys added. */
function httpMutants(body: Json): { what: string; text: string }[] {
  const out: { what: string; text: string }[] = [];
  for (const path of paths(body)) {
    const where = path.join('.');
    for (const name of NAMES)
      out.push({ what: `${where}=${name}`, text: JSON.stringify(setAt(body, path, name)) });
    for (const text of OBJECT_TEXTS)
      out.push({
        what: `${where}=${text}`,
        text: JSON.stringify(setAt(body, path, '@@MARK@@')).replace(MARK, text),
      });
  }
  for (const path of objectPaths(body)) {
    for (const name of NAMES) {
      for (const value of name === '__proto__' ? ['{"toString":1}', '"x"'] : ['1']) {
        const marked = clone(body);
        const target = path.length === 0 ? marked : getAt(marked, path);
        target['@@KEY@@'] = 0;
        out.push({
          what: `${path.join('.')}{${name}: ${value}}`,
          text: JSON.stringify(marked).replace('"@@KEY@@":0', `${JSON.stringify(name)}:${value}`),
        });
      }
    }
  }
  return out;
}

/** gRPC requests: each string field replaced by each prototype name, each enum by out-of-range numbers. */
function grpcMutants(body: Json): { what: string; request: Json }[] {
  const out: { what: string; request: Json }[] = [];
  for (const path of paths(body)) {
    const v = getAt(body, path);
    const where = path.join('.');
    if (typeof v === 'string' && /^OPERATION_/.test(v)) {
      for (const n of [0, 7, 99]) out.push({ what: `${where}=${n}`, request: setAt(body, path, n) });
    } else if (typeof v === 'string') {
      for (const name of NAMES) out.push({ what: `${where}=${name}`, request: setAt(body, path, name) });
    }
  }
  return out;
}

/** Runs `each` over `items`, 16 at a time. */
async function inBatches<T>(items: readonly T[], each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(each));
}

let server: GatehouseServer;
let client: grpc.Client & Json;

beforeAll(async () => {
  const set = fixturePolicySet();
  const config: GatehouseConfig = {
    ...DEFAULT_CONFIG,
    http: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    grpc: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    token: TOKEN,
  };
  server = await GatehouseServer.start({
    config,
    schema: set.schema,
    store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
    logger: pino({ level: 'silent' }),
  });
  const pkg = grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO_PATH, { keepCase: false, longs: String, enums: String, oneofs: true }),
  ) as Json;
  client = new pkg.gatehouse.v1.GatehouseService(server.grpcAddress, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await server?.stop(1000);
});

/** INTERNAL errors counted for one transport and method, from the server's own metrics. */
async function internalErrors(transport: string, method: string): Promise<string[]> {
  const text = await (await fetch(`http://${server.httpAddress}/metrics`)).text();
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith('gatehouse_request_errors_total') &&
        l.includes(`transport="${transport}"`) &&
        l.includes(`method="${method}"`) &&
        l.includes('"INTERNAL"'),
    );
}

describe('prototype-named inputs', () => {
  it.each(Object.keys(REQUESTS))(
    'over HTTP, %s answers every one with a client error or success',
    async (method) => {
      const { path, body } = REQUESTS[method]!;
      const mutants = httpMutants(body);
      expect(mutants.length).toBeGreaterThan(20);
      const failures: string[] = [];
      await inBatches(mutants, async (m) => {
        const controller = new AbortController();
        const res = await fetch(`http://${server.httpAddress}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: m.text,
          signal: controller.signal,
        });
        // Watch streams: the status line is all this test needs.
        if (method === 'Watch') controller.abort();
        else await res.text();
        if (res.status >= 500) failures.push(`${m.what} → ${res.status}`);
      });
      expect(failures).toEqual([]);
      expect(await internalErrors('http', method)).toEqual([]);
    },
  );

  it.each(Object.keys(REQUESTS))(
    'over gRPC, %s answers every one without INTERNAL or UNKNOWN',
    async (method) => {
      const { grpc: rpc, body } = REQUESTS[method]!;
      const mutants = grpcMutants(body);
      expect(mutants.length).toBeGreaterThan(3);
      const failures: string[] = [];
      await inBatches(mutants, async (m) => {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${TOKEN}`);
        const code = await new Promise<number>((resolve) => {
          const deadline = Date.now() + 10_000;
          if (rpc === 'LookupResources' || rpc === 'Watch') {
            const stream = client[rpc](m.request, md, { deadline }) as grpc.ClientReadableStream<unknown>;
            stream.on('data', () => {
              if (rpc === 'Watch') stream.cancel();
            });
            stream.on('error', (e: grpc.ServiceError) => resolve(e.code));
            stream.on('status', (s: grpc.StatusObject) => resolve(s.code));
            // A Watch that opened is cancelled at once: its status is then CANCELLED.
            if (rpc === 'Watch') stream.on('metadata', () => stream.cancel());
          } else {
            client[rpc](m.request, md, { deadline }, (err: grpc.ServiceError | null) =>
              resolve(err?.code ?? 0),
            );
          }
        });
        if (code === grpc.status.INTERNAL || code === grpc.status.UNKNOWN)
          failures.push(`${m.what} → ${code}`);
      });
      expect(failures).toEqual([]);
      expect(await internalErrors('grpc', rpc)).toEqual([]);
    },
  );

  it('ValidatePolicies: policy files whose names are prototype names are validated, not a 500', async () => {
    const failures: string[] = [];
    const all = NAMES.flatMap((name) => [
      `kind: schema\ntypes:\n  ${name}: {}\n  user: {}\n`,
      `kind: schema\ntypes:\n  user: {}\n  doc:\n    relations:\n      ${name}: user\n    permissions:\n      view: ${name}\n`,
      `kind: schema\ntypes:\n  user: {}\n  doc:\n    relations:\n      owner: ${name}\n`,
      `kind: relationships\nrelationships:\n  - doc:d#${name}@user:u\n`,
      `kind: ${name}\n`,
      `${name}: 1\nkind: schema\ntypes: {}\n`,
    ]);
    await inBatches(all, async (content) => {
      const res = await fetch(`http://${server.httpAddress}/v1/policies/validate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ files: [{ path: 'schema.yaml', content }] }),
      });
      await res.text();
      if (res.status >= 500) failures.push(`${JSON.stringify(content)} → ${res.status}`);
    });
    expect(failures).toEqual([]);
  });
});
