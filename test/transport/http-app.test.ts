// The HTTP adapter through app.request(): every route, every documented error status, content
// type, invalid JSON, oversize bodies, headers, and the OpenAPI document's coverage of routes.
import type { Hono } from 'hono';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatehouseMetrics } from '../../server/src/observability/metrics.js';
import { createHttpApp } from '../../server/src/transport/http/app.js';
import { HTTP_STATUS } from '../../server/src/transport/http/errors.js';
import { openApiDocument } from '../../server/src/transport/http/openapi.js';
import { type Fixture, SCHEMA_YAML, startService, TOKEN } from '../service/fixture.js';

let f: Fixture;
let app: Hono;

beforeEach(async () => {
  // Checks and reads open, as a deployer may choose; every scope is tested in auth-scopes.test.ts.
  f = await startService({ token: TOKEN, openScopes: ['check', 'read'], limits: { maxBatchSize: 2 } });
  const metrics = new GatehouseMetrics(f.service, { processMetrics: false });
  app = createHttpApp({
    service: f.service,
    metrics,
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 2048,
    defaultDeadlineMs: 2000,
  });
});
afterEach(() => f.service.close());

const ref = (t: string, id: string) => ({ objectType: t, objectId: id });
const subj = (t: string, id: string, rel?: string) =>
  rel === undefined ? { object: ref(t, id) } : { object: ref(t, id), optionalRelation: rel };

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}
const authed = { authorization: `Bearer ${TOKEN}` };

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON; the assertions check their shape
type Json = Record<string, any>;

async function json(res: Response): Promise<Json> {
  return (await res.json()) as Json;
}

describe('decision routes', () => {
  it('POST /v1/check answers with the proto3 JSON enum and a token', async () => {
    const res = await post('/v1/check', {
      resource: ref('document', 'readme'),
      permission: 'view',
      subject: subj('user', 'alice'),
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
    expect(body.checkedAt.token).toMatch(/^GH2\./);
    const denied = await json(
      await post('/v1/check', {
        resource: ref('document', 'readme'),
        permission: 'edit',
        subject: subj('user', 'alice'),
      }),
    );
    expect(denied.permissionship).toBe('PERMISSIONSHIP_NO_PERMISSION');
  });

  it('POST /v1/check honours consistency.atLeastAsFresh and rejects a garbage token', async () => {
    const write = await json(
      await post(
        '/v1/relationships/write',
        {
          updates: [
            {
              operation: 'OPERATION_TOUCH',
              relationship: {
                resource: ref('document', 'plan'),
                relation: 'viewer',
                subject: subj('user', 'carol'),
              },
            },
          ],
        },
        authed,
      ),
    );
    const fresh = await json(
      await post('/v1/check', {
        consistency: { atLeastAsFresh: write.writtenAt },
        resource: ref('document', 'plan'),
        permission: 'view',
        subject: subj('user', 'carol'),
      }),
    );
    expect(fresh.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
    const bad = await post('/v1/check', {
      consistency: { atLeastAsFresh: { token: 'garbage' } },
      resource: ref('document', 'plan'),
      permission: 'view',
      subject: subj('user', 'carol'),
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.field).toBe('consistency.atLeastAsFresh.token');
  });

  it('POST /v1/check/batch answers in order with per-item errors, and 413 over the limit', async () => {
    const body = await json(
      await post('/v1/check/batch', {
        items: [
          { resource: ref('document', 'plan'), permission: 'view', subject: subj('user', 'alice') },
          { resource: ref('document', 'plan'), permission: 'fly', subject: subj('user', 'alice') },
        ],
      }),
    );
    expect(body.results[0]).toEqual({ permissionship: 'PERMISSIONSHIP_HAS_PERMISSION' });
    expect(body.results[1].error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'items[1].permission' });
    const item = { resource: ref('document', 'plan'), permission: 'view', subject: subj('user', 'alice') };
    const over = await post('/v1/check/batch', { items: [item, item, item] });
    expect(over.status).toBe(413);
    expect((await json(over)).error.code).toBe('RESOURCE_EXHAUSTED');
  });

  it('POST /v1/lookup/resources pages with nextCursor', async () => {
    const first = await json(
      await post('/v1/lookup/resources', {
        resourceObjectType: 'document',
        permission: 'view',
        subject: subj('user', 'alice'),
        pageSize: 1,
      }),
    );
    expect(first.resourceObjectIds).toHaveLength(1);
    const second = await json(
      await post('/v1/lookup/resources', {
        resourceObjectType: 'document',
        permission: 'view',
        subject: subj('user', 'alice'),
        pageSize: '1',
        cursor: first.nextCursor,
      }),
    );
    expect([...first.resourceObjectIds, ...second.resourceObjectIds].sort()).toEqual(['plan', 'readme']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('POST /v1/lookup/subjects and /v1/explain', async () => {
    const subjects = await json(
      await post('/v1/lookup/subjects', {
        resource: ref('document', 'plan'),
        permission: 'view',
        subjectObjectType: 'user',
      }),
    );
    expect(subjects.subjectObjectIds.sort()).toEqual(['alice', 'bob']);
    expect(subjects.wildcard).toBe(false);
    const explain = await json(
      await post('/v1/explain', {
        resource: ref('document', 'plan'),
        permission: 'view',
        subject: subj('user', 'alice'),
      }),
    );
    expect(explain.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
    expect(explain.root).toMatchObject({ result: true, object: 'document:plan' });
  });
});

describe('write and admin routes', () => {
  it('POST /v1/relationships/write requires the bearer token (401) and validates against the schema', async () => {
    const update = {
      operation: 'OPERATION_TOUCH',
      relationship: { resource: ref('document', 'plan'), relation: 'viewer', subject: subj('user', 'carol') },
    };
    expect((await post('/v1/relationships/write', { updates: [update] })).status).toBe(401);
    expect(
      (await post('/v1/relationships/write', { updates: [update] }, { authorization: 'Bearer nope' })).status,
    ).toBe(401);
    const badType = {
      ...update,
      relationship: { ...update.relationship, relation: 'owner', subject: subj('group', 'eng') },
    };
    const bad = await post('/v1/relationships/write', { updates: [badType] }, authed);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.field).toBe('updates[0].relationship');
    expect(
      (await post('/v1/relationships/write', { updates: [{ relationship: update.relationship }] }, authed))
        .status,
    ).toBe(400);
    const ok = await json(await post('/v1/relationships/write', { updates: [update] }, authed));
    expect(ok.writtenAt.token).toMatch(/^GH2\./);
    const dup = await post(
      '/v1/relationships/write',
      { updates: [{ ...update, operation: 'OPERATION_CREATE' }] },
      authed,
    );
    expect(dup.status).toBe(409);
    const pre = await post(
      '/v1/relationships/write',
      {
        updates: [update],
        preconditions: [
          {
            operation: 'OPERATION_MUST_NOT_MATCH',
            filter: { resourceType: 'document', optionalResourceId: 'plan' },
          },
        ],
      },
      authed,
    );
    expect(pre.status).toBe(412);
    expect((await json(pre)).error.code).toBe('FAILED_PRECONDITION');
  });

  it('POST /v1/relationships/delete and /v1/objects/delete report counts as uint64 strings', async () => {
    const del = await json(
      await post(
        '/v1/relationships/delete',
        { filter: { resourceType: 'document', optionalRelation: 'owner' } },
        authed,
      ),
    );
    expect(del.deletedCount).toBe('2');
    const obj = await json(await post('/v1/objects/delete', { object: ref('group', 'eng') }, authed));
    expect(obj.deletedCount).toBe('3');
    expect(obj.consequences).toEqual([
      { resource: ref('document', 'plan'), relation: 'viewer', subject: subj('user', '*') },
    ]);
  });

  it('POST /v1/relationships/read pages stored relationships', async () => {
    const page = await json(
      await post('/v1/relationships/read', { filter: { resourceType: 'group' }, pageSize: 1 }, authed),
    );
    expect(page.relationships).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));
    expect(page.readAt.token).toMatch(/^GH2\./);
  });

  it('POST /v1/policies/validate returns problems; GET /v1/schema returns the schema', async () => {
    const good = await json(
      await post('/v1/policies/validate', { files: [{ path: 'schema.yaml', content: SCHEMA_YAML }] }, authed),
    );
    expect(good).toEqual({ valid: true, problems: [] });
    const bad = await json(
      await post(
        '/v1/policies/validate',
        {
          files: [{ path: 'x.yaml', content: 'kind: schema\ntypes:\n  a:\n    relations:\n      r: nope\n' }],
        },
        authed,
      ),
    );
    expect(bad.valid).toBe(false);
    expect(bad.problems[0]).toMatchObject({ file: 'x.yaml', line: 5 });
    const schema = await json(await app.request('/v1/schema'));
    expect(schema.schemaHash).toBe(f.service.schema.hash);
    expect(JSON.parse(schema.schemaJson)).toBeTruthy();
  });

  it('POST /v1/watch streams NDJSON lines, one per revision', async () => {
    const res = await post('/v1/watch', {}, authed);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const reader = res.body!.getReader();
    await f.service.writeRelationships(
      {
        updates: [
          {
            operation: 'touch',
            relationship: {
              resource: { type: 'document', id: 'plan' },
              relation: 'viewer',
              subject: { type: 'user', id: 'w' },
            },
          },
        ],
      },
      { deadline: Date.now() + 30_000, token: TOKEN },
    );
    const { value } = await reader.read();
    const line = JSON.parse(new TextDecoder().decode(value).trim());
    expect(line.changes[0]).toMatchObject({
      operation: 'OPERATION_INSERT',
      relationship: { subject: subj('user', 'w') },
    });
    expect(line.changesThrough.token).toMatch(/^GH2\./);
    f.service.beginShutdown();
    const { value: last } = await reader.read();
    expect(JSON.parse(new TextDecoder().decode(last).trim()).error.code).toBe('UNAVAILABLE');
    expect((await reader.read()).done).toBe(true);
  });
});

describe('request errors', () => {
  const check = { resource: ref('document', 'plan'), permission: 'view', subject: subj('user', 'alice') };

  it('415 for a wrong content type, 400 for invalid JSON or a non-object body', async () => {
    const wrong = await app.request('/v1/check', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(check),
    });
    expect(wrong.status).toBe(415);
    expect((await json(wrong)).error.code).toBe('INVALID_ARGUMENT');
    const charset = await post('/v1/check', JSON.stringify(check), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(charset.status).toBe(200);
    const invalid = await post('/v1/check', '{"resource": ');
    expect(invalid.status).toBe(400);
    expect((await json(invalid)).error.message).toMatch(/not valid JSON/);
    expect((await post('/v1/check', '[1,2]')).status).toBe(400);
  });

  it('400 naming the field for wrongly typed JSON values', async () => {
    const res = await post('/v1/check', { ...check, permission: 7 });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({
      field: 'permission',
      message: 'permission must be a string, got a number',
    });
    const two = await post('/v1/check', {
      ...check,
      consistency: { minimizeLatency: true, fullyConsistent: true },
    });
    expect((await json(two)).error.field).toBe('consistency');
  });

  it('counts chunked bodies as they stream: 413 past the limit, answered below it', async () => {
    const streamed = (text: string): Promise<Response> => {
      const bytes = new TextEncoder().encode(text);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 512) controller.enqueue(bytes.slice(i, i + 512));
          controller.close();
        },
      });
      return Promise.resolve(
        app.request('/v1/check', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          duplex: 'half',
        } as RequestInit),
      );
    };
    expect((await streamed(JSON.stringify({ ...check, padding: 'x'.repeat(4096) }))).status).toBe(413);
    const ok = await streamed(JSON.stringify(check));
    expect(ok.status).toBe(200);
    expect((await json(ok)).permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
  });

  it('413 for a body over the configured size', async () => {
    const res = await post('/v1/check', { ...check, padding: 'x'.repeat(4096) });
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe('RESOURCE_EXHAUSTED');
  });

  it('400 for a bad Gatehouse-Timeout-Ms; X-Request-Id is echoed on success and error', async () => {
    const bad = await post('/v1/check', check, { 'gatehouse-timeout-ms': 'soon', 'x-request-id': 'req-1' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toBe('req-1');
    const ok = await post('/v1/check', check, { 'gatehouse-timeout-ms': '250', 'x-request-id': 'req-2' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('req-2');
  });

  it('404 with a JSON error for unknown routes and wrong methods', async () => {
    const res = await app.request('/v1/nope', { method: 'POST' });
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe('NOT_FOUND');
    expect((await app.request('/v1/check')).status).toBe(404);
  });

  it('maps every error code to the documented status', () => {
    expect(HTTP_STATUS).toEqual({
      INVALID_ARGUMENT: 400,
      UNAUTHENTICATED: 401,
      PERMISSION_DENIED: 403,
      NOT_FOUND: 404,
      ALREADY_EXISTS: 409,
      ABORTED: 409,
      FAILED_PRECONDITION: 412,
      RESOURCE_EXHAUSTED: 413,
      DEADLINE_EXCEEDED: 504,
      UNAVAILABLE: 503,
      INTERNAL: 500,
      CANCELLED: 499,
    });
  });
});

describe('operational routes', () => {
  it('GET /healthz, /readyz (503 once shutting down), /metrics', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      state: 'ok',
      lagRevisions: 0,
      lagSeconds: 0,
      storeKind: 'memory',
      policyHash: f.service.schema.hash,
    });
    await post('/v1/check', {
      resource: ref('document', 'plan'),
      permission: 'view',
      subject: subj('user', 'alice'),
    });
    await post('/v1/check', {
      resource: ref('document', 'plan'),
      permission: 'nope',
      subject: subj('user', 'alice'),
    });
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(
      /gatehouse_request_duration_seconds_count\{transport="http",method="Check",outcome="allowed"\} 1/,
    );
    expect(metrics).toMatch(
      /gatehouse_request_errors_total\{transport="http",method="Check",code="INVALID_ARGUMENT"\} 1/,
    );
    expect(metrics).toMatch(/gatehouse_graph_relationships 6/);
    expect(metrics).toMatch(/gatehouse_graph_revision 1/);
    f.service.beginShutdown();
    const down = await app.request('/readyz');
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ready: false, reason: 'shutting down' });
  });

  it('GET /openapi.json documents every route the app serves', async () => {
    const doc = await json(await app.request('/openapi.json'));
    expect(doc.openapi).toBe('3.1.0');
    const routes = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method.toLowerCase()} ${r.path}`);
    expect(routes.length).toBeGreaterThan(15);
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      expect(doc.paths[path]?.[method], `${route} missing from /openapi.json`).toBeDefined();
    }
    expect(Object.keys(doc.paths).length).toBe(new Set(routes.map((r) => r.split(' ')[1])).size);
    expect(openApiDocument()).toEqual(doc);
  });
});
