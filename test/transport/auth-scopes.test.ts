// Token scopes over both transports: every operation with no token, an unknown token, and a
// token of each scope; tokens rotated by rewriting the token file; open scopes; the health
// listener serving only the probes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type GatehouseConfig } from '../../server/src/config/config.js';
import { OPERATION_SCOPE, type Operation, SCOPES, type Scope } from '../../server/src/service/auth/scopes.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { PROTO_PATH } from '../../server/src/transport/grpc/proto.js';
import { fixturePolicySet, SCHEMA_YAML } from '../service/fixture.js';
import { PATIENT_MS } from '../support/wait-until.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON
type Any = Record<string, any>;
type Outcome = 'ok' | 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | `other: ${string}`;

const TOKENS: Readonly<Record<Scope, string>> = {
  check: 'tok-check-0123456789',
  read: 'tok-read-0123456789',
  write: 'tok-write-0123456789',
  admin: 'tok-admin-0123456789',
};
const tokenFileText = (tokens: Readonly<Record<string, string>>): string =>
  `# token scopes\n${Object.entries(tokens)
    .map(([scope, token]) => `${token} ${scope}`)
    .join('\n')}\n`;

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-auth-'));
const tokenFile = join(dir, 'tokens');
let server: GatehouseServer;
let client: grpc.Client & Any;
/** The main server's log lines, to see a token file being rejected. */
const logLines: string[] = [];

async function startServer(
  overrides: Partial<GatehouseConfig>,
  logger = pino({ level: 'silent' }),
): Promise<GatehouseServer> {
  const set = fixturePolicySet();
  return GatehouseServer.start({
    config: {
      ...DEFAULT_CONFIG,
      http: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      grpc: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      fileReloadMs: 25,
      ...overrides,
    },
    schema: set.schema,
    store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
    logger,
  });
}

function grpcClient(address: string): grpc.Client & Any {
  const def = protoLoader.loadSync(PROTO_PATH, {
    keepCase: false,
    longs: String,
    enums: String,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as Any;
  return new pkg.gatehouse.v1.GatehouseService(address, grpc.credentials.createInsecure());
}

beforeAll(async () => {
  writeFileSync(tokenFile, tokenFileText(TOKENS));
  server = withReloader(
    await startServer(
      { tokenFile, health: { kind: 'tcp', host: '127.0.0.1', port: 0 } },
      pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }),
    ),
  );
  client = grpcClient(server.grpcAddress);
});

afterAll(async () => {
  client.close();
  await server.stop(1000);
  rmSync(dir, { recursive: true, force: true });
});

const ref = (t: string, id: string) => ({ objectType: t, objectId: id });
const subj = (t: string, id: string) => ({ object: ref(t, id) });
const check = { resource: ref('document', 'plan'), permission: 'view', subject: subj('user', 'alice') };
let serial = 0;
const touch = (): Any => ({
  updates: [
    {
      operation: 'OPERATION_TOUCH',
      relationship: {
        resource: ref('document', 'scratch'),
        relation: 'viewer',
        subject: subj('user', `u${++serial}`),
      },
    },
  ],
});

/** Each operation's HTTP route and a request that succeeds when the call is authorized. */
const CALLS: Readonly<Record<Operation, { path: string; body: () => Any | undefined; method?: 'POST' }>> = {
  Check: { path: '/v1/check', body: () => check },
  CheckBatch: { path: '/v1/check/batch', body: () => ({ items: [check] }) },
  LookupResources: {
    path: '/v1/lookup/resources',
    body: () => ({ resourceObjectType: 'document', permission: 'view', subject: subj('user', 'alice') }),
  },
  LookupSubjects: {
    path: '/v1/lookup/subjects',
    body: () => ({ resource: ref('document', 'plan'), permission: 'view', subjectObjectType: 'user' }),
  },
  Explain: { path: '/v1/explain', body: () => check },
  ReadSchema: { path: '/v1/schema', body: () => undefined },
  ReadRelationships: {
    path: '/v1/relationships/read',
    body: () => ({ filter: { resourceType: 'document' } }),
  },
  Watch: { path: '/v1/watch', body: () => ({}) },
  WriteRelationships: { path: '/v1/relationships/write', body: touch },
  DeleteRelationships: {
    path: '/v1/relationships/delete',
    body: () => ({ filter: { resourceType: 'document', optionalResourceId: 'nothing-here' } }),
  },
  DeleteObject: { path: '/v1/objects/delete', body: () => ({ object: ref('user', 'nobody') }) },
  ValidatePolicies: {
    path: '/v1/policies/validate',
    body: () => ({ files: [{ path: 'schema.yaml', content: SCHEMA_YAML }] }),
  },
  // Answered by the stub reloader `withReloader` installs.
  ReloadPolicies: { path: '/v1/admin/reload', body: () => undefined, method: 'POST' },
};

/** A reloader that always finds the policies unchanged, so an authorized reload answers 200. */
function withReloader(s: GatehouseServer): GatehouseServer {
  const policyHash = s.service.policyHash;
  s.service.setReloader({
    reload: async () => ({ result: 'unchanged', policyHash, previousHash: policyHash }),
  });
  return s;
}

const authHeader = (token: string | undefined): Record<string, string> =>
  token === undefined ? {} : { authorization: token };

async function overHttp(s: GatehouseServer, op: Operation, authorization?: string): Promise<Outcome> {
  const { path, body, method } = CALLS[op];
  const payload = body();
  const res = await fetch(`http://${s.httpAddress}${path}`, {
    method: method ?? (payload === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...authHeader(authorization) },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  if (res.status === 200) {
    await res.body?.cancel();
    return 'ok';
  }
  const error = ((await res.json()) as Any).error;
  if (res.status === 401 && error.code === 'UNAUTHENTICATED') return 'UNAUTHENTICATED';
  if (res.status === 403 && error.code === 'PERMISSION_DENIED') return 'PERMISSION_DENIED';
  return `other: ${res.status} ${JSON.stringify(error)}`;
}

function grpcOutcome(err: grpc.ServiceError): Outcome {
  if (err.code === grpc.status.UNAUTHENTICATED) return 'UNAUTHENTICATED';
  if (err.code === grpc.status.PERMISSION_DENIED) return 'PERMISSION_DENIED';
  return `other: ${err.code} ${err.details}`;
}

async function overGrpc(c: grpc.Client & Any, op: Operation, authorization?: string): Promise<Outcome> {
  const md = new grpc.Metadata();
  if (authorization !== undefined) md.set('authorization', authorization);
  const req = CALLS[op].body() ?? {};
  const deadline = Date.now() + 10_000;
  if (op === 'LookupResources' || op === 'Watch') {
    const stream = c[op](req, md, { deadline }) as grpc.ClientReadableStream<Any>;
    return new Promise<Outcome>((resolve) => {
      let writer: NodeJS.Timeout | undefined;
      const done = (o: Outcome): void => {
        clearInterval(writer);
        stream.removeAllListeners('error');
        stream.on('error', () => undefined);
        stream.cancel();
        resolve(o);
      };
      stream.on('data', () => done('ok'));
      stream.on('end', () => done('ok'));
      stream.on('error', (err: grpc.ServiceError) => done(grpcOutcome(err)));
      // A watch only speaks when something changes: write until it does (or it fails).
      if (op === 'Watch') {
        writer = setInterval(() => {
          void server.service.writeRelationships(
            {
              updates: [
                {
                  operation: 'touch',
                  relationship: {
                    resource: { type: 'document', id: 'scratch' },
                    relation: 'viewer',
                    subject: { type: 'user', id: `w${++serial}` },
                  },
                },
              ],
            },
            { deadline: Date.now() + 5000, token: TOKENS.write },
          );
        }, 50);
      }
    });
  }
  return new Promise<Outcome>((resolve) => {
    c[op](req, md, { deadline }, (err: grpc.ServiceError | null) =>
      resolve(err === null ? 'ok' : grpcOutcome(err)),
    );
  });
}

const OPERATIONS = Object.keys(OPERATION_SCOPE) as Operation[];
const casesFor = (ops: readonly Operation[]) =>
  ops.flatMap((op) => [
    { op, who: 'no token', authorization: undefined, expected: 'UNAUTHENTICATED' as Outcome },
    {
      op,
      who: 'an unknown token',
      authorization: 'Bearer not-a-known-token',
      expected: 'UNAUTHENTICATED' as Outcome,
    },
    ...SCOPES.map((scope) => ({
      op,
      who: `a '${scope}' token`,
      authorization: `Bearer ${TOKENS[scope]}`,
      expected: (OPERATION_SCOPE[op] === scope ? 'ok' : 'PERMISSION_DENIED') as Outcome,
    })),
  ]);

describe.each([
  ['HTTP', casesFor(OPERATIONS), (op: Operation, a?: string) => overHttp(server, op, a)],
  ['gRPC', casesFor(OPERATIONS), (op: Operation, a?: string) => overGrpc(client, op, a)],
] as const)('scopes over %s', (_transport, cases, call) => {
  it.each(cases)('$op with $who: $expected', async ({ op, authorization, expected }) => {
    expect(await call(op, authorization)).toBe(expected);
  });

  // Spaces before and after the whole value never arrive: HTTP/1.1 strips them, and HTTP/2
  // forbids them (RFC 9113 8.2.1), so Node drops such a header before grpc-js sees it.
  it('accepts any case of the scheme and any spaces between it and the token', async () => {
    expect(await call('Check', `bearer   ${TOKENS.check}`)).toBe('ok');
    expect(await call('Check', `BEARER ${TOKENS.check}`)).toBe('ok');
  });
});

describe('token rotation', () => {
  it('serves the tokens of a rewritten token file without a restart, and keeps them if it breaks', async () => {
    const rotated = 'tok-check-rotated-42';
    writeFileSync(tokenFile, tokenFileText({ ...TOKENS, check: rotated }));
    await waitFor(async () => (await overHttp(server, 'Check', `Bearer ${rotated}`)) === 'ok');
    expect(await overGrpc(client, 'Check', `Bearer ${rotated}`)).toBe('ok');
    expect(await overHttp(server, 'Check', `Bearer ${TOKENS.check}`)).toBe('UNAUTHENTICATED');
    expect(await overGrpc(client, 'Check', `Bearer ${TOKENS.check}`)).toBe('UNAUTHENTICATED');

    // An emptied or broken file never opens the server: the last good tokens stay in force.
    writeFileSync(tokenFile, '# emptied by mistake\n');
    await waitFor(async () => logLines.some((l) => l.includes('token file rejected')));
    expect(await overHttp(server, 'Check')).toBe('UNAUTHENTICATED');
    expect(await overHttp(server, 'Check', `Bearer ${rotated}`)).toBe('ok');
    writeFileSync(tokenFile, tokenFileText(TOKENS));
    await waitFor(async () => (await overHttp(server, 'Check', `Bearer ${TOKENS.check}`)) === 'ok');
  });
});

describe('open scopes', () => {
  it('leave only the opened scopes callable without a token', async () => {
    const open = await startServer({ token: 'env-token-0123456789', openScopes: ['check'] });
    const c = grpcClient(open.grpcAddress);
    try {
      expect(await overHttp(open, 'Check')).toBe('ok');
      expect(await overGrpc(c, 'CheckBatch')).toBe('ok');
      expect(await overHttp(open, 'Explain')).toBe('UNAUTHENTICATED');
      expect(await overGrpc(c, 'LookupSubjects')).toBe('UNAUTHENTICATED');
      // GATEHOUSE_TOKEN has every scope.
      expect(await overGrpc(c, 'ValidatePolicies', 'Bearer env-token-0123456789')).toBe('ok');
    } finally {
      c.close();
      await open.stop(1000);
    }
  });

  it('with no token configured, every call is open (the loopback default)', async () => {
    const open = withReloader(await startServer({}));
    try {
      for (const op of OPERATIONS.filter((o) => o !== 'Watch')) expect(await overHttp(open, op)).toBe('ok');
    } finally {
      await open.stop(1000);
    }
  });
});

describe('the health listener', () => {
  it('serves only /healthz, /readyz and /metrics, which the API listener no longer serves', async () => {
    const health = `http://${server.healthAddress}`;
    expect((await fetch(`${health}/healthz`)).status).toBe(200);
    // main's readiness detail, the same as the API listener serves without --health.
    expect(await (await fetch(`${health}/readyz`)).json()).toMatchObject({
      ready: true,
      state: 'ok',
      policyHash: server.service.policyHash,
    });
    const metrics = await fetch(`${health}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE');
    for (const path of ['/v1/schema', '/openapi.json'])
      expect((await fetch(`${health}${path}`)).status).toBe(404);
    const check = await fetch(`${health}/v1/check`, { method: 'POST', body: '{}' });
    expect(check.status).toBe(404);
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect((await fetch(`http://${server.httpAddress}${path}`)).status).toBe(404);
    }
  });

  it('is absent unless configured, leaving the probes on the API listener', async () => {
    const plain = await startServer({});
    try {
      expect(plain.healthAddress).toBeUndefined();
      expect((await fetch(`http://${plain.httpAddress}/readyz`)).status).toBe(200);
      expect((await fetch(`http://${plain.httpAddress}/metrics`)).status).toBe(200);
    } finally {
      await plain.stop(1000);
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = PATIENT_MS): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
