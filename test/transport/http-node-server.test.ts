// The HTTP adapter served by @hono/node-server over a real socket: the routes read request
// headers from Node's parsed IncomingMessage there (app.request() in http-app.test.ts takes the
// web Request path), so headers, limits, auth and the cached check bodies are checked here too.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatehouseMetrics } from '../../server/src/observability/metrics.js';
import { createHttpApp } from '../../server/src/transport/http/app.js';
import { HttpServer } from '../../server/src/transport/http/server.js';
import { type Fixture, startService, TOKEN } from '../service/fixture.js';

let f: Fixture;
let server: HttpServer;
let metrics: GatehouseMetrics;
let base: string;

beforeAll(async () => {
  // Checks open, as a deployer may choose; every scope is tested in auth-scopes.test.ts.
  f = await startService({ token: TOKEN, openScopes: ['check'] });
  metrics = new GatehouseMetrics(f.service, { processMetrics: false });
  server = new HttpServer(
    createHttpApp({
      service: f.service,
      metrics,
      logger: pino({ level: 'silent' }),
      maxBodyBytes: 1024,
      defaultDeadlineMs: 2000,
    }),
  );
  base = `http://${await server.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 })}`;
});
afterAll(async () => {
  await server.shutdown(0);
  f.service.close();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const check = (permission: string) => ({
  resource: { objectType: 'document', objectId: 'readme' },
  permission,
  subject: { object: { objectType: 'user', objectId: 'alice' } },
});

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON; the assertions check their shape
type Json = Record<string, any>;

describe('HTTP over @hono/node-server', () => {
  it('answers checks with the current token, before and after a write moves the revision', async () => {
    const allowed = (await (await post('/v1/check', check('view'))).json()) as Json;
    const denied = (await (await post('/v1/check', check('edit'))).json()) as Json;
    expect(allowed.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
    expect(denied).toEqual({
      permissionship: 'PERMISSIONSHIP_NO_PERMISSION',
      checkedAt: { token: allowed.checkedAt.token },
    });
    const write = await post(
      '/v1/relationships/write',
      {
        updates: [
          {
            operation: 'OPERATION_TOUCH',
            relationship: {
              resource: { objectType: 'document', objectId: 'readme' },
              relation: 'owner',
              subject: { object: { objectType: 'user', objectId: 'alice' } },
            },
          },
        ],
      },
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(write.status).toBe(200);
    const written = ((await write.json()) as Json).writtenAt.token as string;
    const after = (await (
      await post('/v1/check', { ...check('edit'), consistency: { atLeastAsFresh: { token: written } } })
    ).json()) as Json;
    expect(after).toEqual({ permissionship: 'PERMISSIONSHIP_HAS_PERMISSION', checkedAt: { token: written } });
    expect(written).not.toBe(allowed.checkedAt.token);
  });

  it('reads the bearer token, the timeout and the request id from the request headers', async () => {
    const unauthenticated = await post('/v1/relationships/read', { filter: { resourceType: 'document' } });
    expect(unauthenticated.status).toBe(401);
    const wrong = await post(
      '/v1/relationships/read',
      { filter: { resourceType: 'document' } },
      { authorization: 'Bearer nope' },
    );
    expect(wrong.status).toBe(401);
    const read = await post(
      '/v1/relationships/read',
      { filter: { resourceType: 'document' } },
      { authorization: `bearer ${TOKEN}`, 'x-request-id': 'r-1' },
    );
    expect(read.status).toBe(200);
    expect(read.headers.get('x-request-id')).toBe('r-1');
    const badTimeout = await post('/v1/check', check('view'), {
      'gatehouse-timeout-ms': '0',
      'x-request-id': 'r-2',
    });
    expect(badTimeout.status).toBe(400);
    expect(badTimeout.headers.get('x-request-id')).toBe('r-2');
    expect(((await badTimeout.json()) as Json).error.field).toBe('Gatehouse-Timeout-Ms');
    expect((await post('/v1/check', check('view'), { 'gatehouse-timeout-ms': '250' })).status).toBe(200);
  });

  it('enforces the content type and the declared body size', async () => {
    const text = await post('/v1/check', JSON.stringify(check('view')), { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(((await text.json()) as Json).error.message).toContain("Content-Type 'text/plain'");
    const big = await post('/v1/check', { ...check('view'), padding: 'x'.repeat(2048) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as Json).error.code).toBe('RESOURCE_EXHAUSTED');
    const charset = await post('/v1/check', check('view'), {
      'content-type': 'Application/JSON; charset=utf-8',
    });
    expect(charset.status).toBe(200);
  });

  it('counts checks by decision and errors by code in the metrics', async () => {
    await post('/v1/check', check('view'));
    await post('/v1/check', check('edit'));
    await post('/v1/check', { ...check('view'), padding: 'x'.repeat(2048) });
    const text = (await metrics.render()).body;
    expect(text).toMatch(
      /gatehouse_request_duration_seconds_count\{transport="http",method="Check",outcome="allowed"\} [1-9]/,
    );
    expect(text).toMatch(
      /gatehouse_request_duration_seconds_count\{transport="http",method="Check",outcome="denied"\} [1-9]/,
    );
    expect(text).toMatch(
      /gatehouse_request_errors_total\{transport="http",method="Check",code="RESOURCE_EXHAUSTED"\} [1-9]/,
    );
  });

  it('counts the items of a CheckBatch by outcome', async () => {
    const count = async (outcome: string): Promise<number> => {
      const text = (await metrics.render()).body;
      const m = new RegExp(`gatehouse_batch_checks_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
      return m === null ? 0 : Number(m[1]);
    };
    const before = [await count('allowed'), await count('denied'), await count('error')];
    const res = await post('/v1/check/batch', {
      items: [
        check('view'),
        check('view'),
        { ...check('view'), subject: { object: { objectType: 'user', objectId: 'nobody' } } },
        { ...check('view'), permission: 'nope' },
      ],
    });
    expect(res.status).toBe(200);
    const after = [await count('allowed'), await count('denied'), await count('error')];
    expect(after.map((n, i) => n - before[i]!)).toEqual([2, 1, 1]);
  });
});
