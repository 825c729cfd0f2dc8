// The AuthZEN routes of the HTTP app (app.request, no socket): the token scope each endpoint needs
// for every kind of token, decision log lines of kind `authzen` (one per evaluation and per item),
// request spans, subject sets and escaped ids, and the metadata document left unconfigured.
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Hono } from 'hono';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { DecisionLog, type DecisionSink } from '../../server/src/observability/decision-log.js';
import { GatehouseMetrics } from '../../server/src/observability/metrics.js';
import { RequestTracing } from '../../server/src/observability/tracing.js';
import { SCOPES, type Scope } from '../../server/src/service/auth/scopes.js';
import { TokenAuthorizer } from '../../server/src/service/auth/token-authorizer.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import type { CheckParams, CheckResult } from '../../server/src/service/requests.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { createHttpApp } from '../../server/src/transport/http/app.js';
import { type AuthzenService, mountAuthzen } from '../../server/src/transport/http/authzen.js';
import { fixturePolicySet } from '../service/fixture.js';

const services: GatehouseService[] = [];
afterEach(() => {
  for (const s of services.splice(0)) s.close();
});

const TOKENS: Readonly<Record<Scope, string>> = {
  check: 'authzen-check-0123456789',
  read: 'authzen-read-0123456789',
  write: 'authzen-write-0123456789',
  admin: 'authzen-admin-0123456789',
};

class MemorySink implements DecisionSink {
  readonly chunks: string[] = [];
  async write(chunk: string): Promise<void> {
    this.chunks.push(chunk);
  }
  async close(): Promise<void> {}
  lines(): Record<string, unknown>[] {
    return this.chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

async function app(
  options: { tokens?: boolean; decisionLog?: DecisionLog; tracing?: RequestTracing; baseUrl?: string } = {},
): Promise<{ app: Hono; service: GatehouseService }> {
  const set = fixturePolicySet();
  const service = await GatehouseService.create({
    schema: set.schema,
    store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
    limits: DEFAULT_LIMITS,
    decisionLog: options.decisionLog,
    authorizer: options.tokens
      ? new TokenAuthorizer(SCOPES.map((scope) => ({ token: TOKENS[scope], scopes: [scope] })))
      : undefined,
  });
  services.push(service);
  const hono = createHttpApp({
    service,
    metrics: new GatehouseMetrics(service),
    logger: pino({ level: 'silent' }),
    maxBodyBytes: DEFAULT_LIMITS.maxBodyBytes,
    defaultDeadlineMs: 5000,
    tracing: options.tracing,
    authzen: { decisionLog: options.decisionLog, baseUrl: options.baseUrl },
  });
  return { app: hono, service };
}

function post(a: Hono, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    a.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

const alice = { type: 'user', id: 'alice' };
const plan = { type: 'document', id: 'plan' };
const view = { name: 'view' };

/** Each AuthZEN endpoint, a request it answers with 200 when authorized, and the scope it needs. */
const ENDPOINTS: readonly { path: string; body: unknown; scope: Scope }[] = [
  { path: '/access/v1/evaluation', body: { subject: alice, action: view, resource: plan }, scope: 'check' },
  {
    path: '/access/v1/evaluations',
    body: { subject: alice, action: view, evaluations: [{ resource: plan }] },
    scope: 'check',
  },
  {
    path: '/access/v1/search/subject',
    body: { subject: { type: 'user' }, action: view, resource: plan },
    scope: 'read',
  },
  {
    path: '/access/v1/search/resource',
    body: { subject: alice, action: view, resource: { type: 'document' } },
    scope: 'read',
  },
  { path: '/access/v1/search/action', body: { subject: alice, resource: plan }, scope: 'read' },
];

describe('token scopes of the AuthZEN endpoints', () => {
  const kinds: readonly (Scope | 'none' | 'unknown')[] = ['none', 'unknown', ...SCOPES];
  for (const { path, body, scope } of ENDPOINTS) {
    it(`${path} needs the '${scope}' scope`, async () => {
      const { app: a } = await app({ tokens: true });
      const outcomes: Record<string, number> = {};
      for (const kind of kinds) {
        const authorization: Record<string, string> =
          kind === 'none'
            ? {}
            : { authorization: `Bearer ${kind === 'unknown' ? 'not-a-token' : TOKENS[kind]}` };
        const response = await post(a, path, body, authorization);
        outcomes[kind] = response.status;
        if (response.status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
        if (response.status !== 200) expect(typeof (await response.json())).toBe('string');
      }
      const expected = Object.fromEntries(
        kinds.map((k) => [k, k === 'none' || k === 'unknown' ? 401 : k === scope ? 200 : 403]),
      );
      expect(outcomes).toEqual(expected);
    });
  }

  it('serves the metadata document without a token', async () => {
    const { app: a } = await app({ tokens: true, baseUrl: 'https://pdp.example.com' });
    const response = await a.request('/.well-known/authzen-configuration');
    expect(response.status).toBe(200);
    expect(((await response.json()) as Record<string, string>).access_evaluation_endpoint).toBe(
      'https://pdp.example.com/access/v1/evaluation',
    );
  });
});

describe('AuthZEN decision log lines', () => {
  it('logs one line of kind authzen per evaluation, and per item of evaluations with its index', async () => {
    const sink = new MemorySink();
    const log = new DecisionLog({ sink, clock: () => Date.UTC(2026, 11, 4) });
    const { app: a } = await app({ decisionLog: log });
    await post(
      a,
      '/access/v1/evaluation',
      { subject: alice, action: view, resource: plan },
      { 'x-request-id': 'one' },
    );
    await post(
      a,
      '/access/v1/evaluations',
      {
        subject: alice,
        action: view,
        evaluations: [
          { resource: plan },
          { resource: { type: 'spaceship', id: 'x' } },
          { resource: { type: 'document', id: 'readme' }, action: { name: 'edit' } },
        ],
      },
      { 'x-request-id': 'many' },
    );
    await log.flush();
    const lines = sink.lines();
    expect(lines.map((l) => [l.kind, l.requestId, l.index, l.decision])).toEqual([
      ['authzen', 'one', undefined, 'allowed'],
      ['authzen', 'many', 0, 'allowed'],
      ['authzen', 'many', 1, 'error'],
      ['authzen', 'many', 2, 'denied'],
    ]);
    expect(lines[0]).toMatchObject({ subject: 'user:alice', resource: 'document:plan', permission: 'view' });
    expect(lines[0]!.path).toEqual(expect.arrayContaining(['document:plan#view']));
    expect(lines[2]!.reason).toContain('spaceship');
  });

  it('logs only the items a short-circuiting semantic evaluated', async () => {
    const sink = new MemorySink();
    const log = new DecisionLog({ sink });
    const { app: a } = await app({ decisionLog: log });
    const response = await post(a, '/access/v1/evaluations', {
      subject: alice,
      action: view,
      options: { evaluations_semantic: 'permit_on_first_permit' },
      evaluations: [
        { resource: { type: 'document', id: 'nothing' } },
        { resource: plan },
        { resource: plan },
      ],
    });
    expect(await response.json()).toEqual({ evaluations: [{ decision: false }, { decision: true }] });
    await log.flush();
    expect(sink.lines().map((l) => [l.index, l.decision])).toEqual([
      [0, 'denied'],
      [1, 'allowed'],
    ]);
  });
});

describe('AuthZEN request spans', () => {
  it('opens one span per request, child of traceparent, with the decision', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const { app: a } = await app({ tracing: new RequestTracing(provider.getTracer('test')) });
    await post(
      a,
      '/access/v1/evaluation',
      { subject: alice, action: view, resource: plan },
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    );
    await post(a, '/access/v1/evaluation', { subject: alice, action: { name: 'fly' }, resource: plan });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['gatehouse/AuthzenEvaluation', 'gatehouse/AuthzenEvaluation']);
    expect(spans[0]!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(spans[0]!.attributes).toMatchObject({
      'gatehouse.permission': 'view',
      'gatehouse.resource_type': 'document',
      'gatehouse.allowed': true,
    });
    expect(spans[1]!.attributes).toMatchObject({ 'gatehouse.error_code': 'INVALID_ARGUMENT' });
  });
});

describe('AuthZEN mapping', () => {
  it('reads properties.relation as a subject set', async () => {
    const { app: a } = await app();
    const eng = { type: 'group', id: 'eng', properties: { relation: 'member' } };
    const allowed = await post(a, '/access/v1/evaluation', { subject: eng, action: view, resource: plan });
    expect(await allowed.json()).toEqual({ decision: true });
    const subjects = await post(a, '/access/v1/search/subject', {
      subject: { type: 'group', properties: { relation: 'member' } },
      action: view,
      resource: plan,
    });
    expect(((await subjects.json()) as { results: unknown[] }).results).toEqual([eng]);
    const bad = await post(a, '/access/v1/evaluation', {
      subject: { ...eng, properties: { relation: 7 } },
      action: view,
      resource: plan,
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toContain('subject.properties.relation');
  });

  it('maps ids Gatehouse cannot hold one-to-one, in requests and in search results', async () => {
    const { app: a, service } = await app();
    await service.writeRelationships(
      {
        updates: [
          {
            operation: 'touch',
            relationship: {
              resource: { type: 'document', id: 'q3=20plan' },
              relation: 'viewer',
              subject: { type: 'user', id: 'carol=40example.com' },
            },
          },
        ],
      },
      { deadline: Date.now() + 5000 },
    );
    const carol = { type: 'user', id: 'carol@example.com' };
    const q3 = { type: 'document', id: 'q3 plan' };
    expect(
      await (await post(a, '/access/v1/evaluation', { subject: carol, action: view, resource: q3 })).json(),
    ).toEqual({
      decision: true,
    });
    // The escaped spelling is another id: `=` is escaped too.
    const literal = { type: 'user', id: 'carol=40example.com' };
    expect(
      await (await post(a, '/access/v1/evaluation', { subject: literal, action: view, resource: q3 })).json(),
    ).toEqual({
      decision: false,
    });
    const found = await post(a, '/access/v1/search/resource', {
      subject: carol,
      action: view,
      resource: { type: 'document' },
    });
    expect(((await found.json()) as { results: unknown[] }).results).toEqual([q3]);
  });

  it('answers the metadata request with 404 and how to configure it when no base URL is set', async () => {
    const { app: a } = await app();
    const response = await a.request('/.well-known/authzen-configuration', {
      headers: { host: 'evil.example' },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toContain('--authzen-base-url');
  });

  it('answers an evaluations request without items as a single evaluation', async () => {
    const { app: a } = await app();
    const response = await post(a, '/access/v1/evaluations', {
      subject: alice,
      action: view,
      resource: plan,
      evaluations: [],
    });
    expect(await response.json()).toEqual({ decision: true });
  });

  it('refuses more evaluations than the batch limit with 413, evaluating none', async () => {
    const { app: a } = await app();
    const evaluations = Array.from({ length: DEFAULT_LIMITS.maxBatchSize + 1 }, () => ({ resource: plan }));
    const response = await post(a, '/access/v1/evaluations', { subject: alice, action: view, evaluations });
    expect(response.status).toBe(413);
    expect(await response.json()).toContain(String(DEFAULT_LIMITS.maxBatchSize));
  });
});

describe('AuthZEN and relationship conditions', () => {
  /** A service whose checks are conditional on `ip` unless the context has it; records what it was asked. */
  function conditionalService(asked: CheckParams[]): AuthzenService {
    const answer = (p: CheckParams): CheckResult =>
      p.context?.ip === undefined
        ? { allowed: false, permissionship: 'conditional', missingContext: ['ip'], token: 't' }
        : {
            allowed: p.context.ip === '10.0.0.1',
            permissionship: p.context.ip === '10.0.0.1' ? 'allowed' : 'denied',
            token: 't',
          };
    return {
      limits: DEFAULT_LIMITS,
      // A schema that declares a condition: only then is the context built and passed.
      schema: { types: new Map(), hash: 'h', conditions: new Map([['ip_allowlist', {}]]) },
      checkNow: (p: CheckParams) => {
        asked.push(p);
        return answer(p);
      },
      lookupResources: async () => ({
        resourceIds: ['a'],
        conditional: [{ id: 'b=40c', missingContext: ['ip'] }],
        nextCursor: undefined,
        token: 't',
      }),
    } as unknown as AuthzenService;
  }

  function mounted(service: AuthzenService): Hono {
    const hono = new Hono();
    mountAuthzen(hono, {
      service,
      metrics: new GatehouseMetrics(
        { revision: 1, relationshipCount: 0, ready: true },
        { processMetrics: false },
      ),
      logger: pino({ level: 'silent' }),
      maxBodyBytes: 1 << 20,
      defaultDeadlineMs: 5000,
    });
    return hono;
  }

  it('passes context and the entities to conditions, and answers a conditional check as a deny naming what is missing', async () => {
    const asked: CheckParams[] = [];
    const a = mounted(conditionalService(asked));
    const resource = { type: 'document', id: 'plan', properties: { owner: 'bob' } };
    const missing = await post(a, '/access/v1/evaluation', { subject: alice, action: view, resource });
    expect(await missing.json()).toEqual({
      decision: false,
      context: { reason: 'conditional', missing_context: ['ip'] },
    });
    expect(asked[0]!.context).toEqual({ subject: alice, action: view, resource });
    const given = await post(a, '/access/v1/evaluations', {
      subject: alice,
      action: view,
      resource,
      evaluations: [{ context: { ip: '10.0.0.1' } }, { context: { ip: '10.9.9.9' } }, {}],
    });
    expect(await given.json()).toEqual({
      evaluations: [
        { decision: true },
        { decision: false },
        { decision: false, context: { reason: 'conditional', missing_context: ['ip'] } },
      ],
    });
    expect(asked[1]!.context).toMatchObject({ ip: '10.0.0.1', resource });
  });

  it('keeps conditional resources out of search results and lists them in the context', async () => {
    const a = mounted(conditionalService([]));
    const response = await post(a, '/access/v1/search/resource', {
      subject: alice,
      action: view,
      resource: { type: 'document' },
    });
    expect(await response.json()).toEqual({
      page: { next_token: '', count: 1 },
      context: { conditional: [{ type: 'document', id: 'b@c', missing_context: ['ip'] }] },
      results: [{ type: 'document', id: 'a' }],
    });
  });
});
