// End-to-end: conditions, request context, expiry and contextual relationships through the real
// SDK against a real `gatehouse serve`, over gRPC and over HTTP.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatehouseProcess, startGatehouse, TOKEN } from './support/gatehouse-process.js';
import {
  createGrpcTransport,
  createHttpTransport,
  GatehouseClient,
  type Transport,
  type WatchEvent,
} from './support/sdk.js';

const POLICIES = fileURLToPath(new URL('./fixtures/conditions', import.meta.url));
const HOUR = 3_600_000;

describe.each([['grpc'], ['http']] as const)('conditions over %s against gatehouse serve', (kind) => {
  let server: GatehouseProcess;
  let client: GatehouseClient;

  beforeAll(async () => {
    server = await startGatehouse({ policies: POLICIES });
    const transport: Transport =
      kind === 'grpc'
        ? createGrpcTransport({ address: server.grpc, token: TOKEN })
        : createHttpTransport({ baseUrl: `http://${server.http}`, token: TOKEN });
    client = new GatehouseClient(transport);
  });

  afterAll(async () => {
    await client?.close();
    expect(await server?.stop()).toBe(0);
  });

  it('answers conditional with the missing context, then allowed or denied once it is given', async () => {
    await expect(client.check('doc:office#view@user:ann')).resolves.toMatchObject({
      allowed: false,
      permissionship: 'conditional',
      missingContext: ['ip'],
    });
    const inside = {
      resource: 'doc:office',
      permission: 'view',
      subject: 'user:ann',
      context: { ip: '10.1.2.3' },
    };
    await expect(client.check(inside)).resolves.toMatchObject({ allowed: true, permissionship: 'allowed' });
    await expect(client.check({ ...inside, context: { ip: '192.168.0.1' } })).resolves.toMatchObject({
      allowed: false,
      permissionship: 'denied',
    });
    const { results } = await client.checkBatch([
      'doc:open#view@user:ann',
      'doc:office#view@user:ann',
      inside,
    ]);
    expect(results.map((r) => r.permissionship)).toEqual(['allowed', 'conditional', 'allowed']);
    expect(results[1]?.missingContext).toEqual(['ip']);
    // The metrics count a conditional answer as such, never as a deny.
    const metrics = await (await fetch(`http://${server.http}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `gatehouse_request_duration_seconds_count\\{transport="${kind}",method="Check",outcome="conditional"\\} 1\n`,
      ),
    );
    expect(metrics).toMatch(/gatehouse_batch_checks_total\{outcome="conditional"\} 1\n/);
  });

  it('lookups list conditional results apart from granted ones', async () => {
    const pages = [];
    for await (const p of client
      .lookupResources({ resourceType: 'doc', permission: 'view', subject: 'user:ann' })
      .pages())
      pages.push(p);
    const [page] = pages;
    expect(page?.resourceIds).toEqual(['open']);
    expect(page?.conditional).toEqual([{ id: 'office', missingContext: ['ip'] }]);
    const withIp = await client
      .lookupResources({
        resourceType: 'doc',
        permission: 'view',
        subject: 'user:ann',
        context: { ip: '10.0.0.1' },
      })
      .toArray();
    expect([...withIp].sort()).toEqual(['office', 'open']);
  });

  it('contextual relationships grant for that request only', async () => {
    const request = {
      resource: 'doc:draft',
      permission: 'view',
      subject: 'user:bo',
      contextualRelationships: ['doc:draft#viewer@user:bo'],
    };
    await expect(client.check(request)).resolves.toMatchObject({ allowed: true });
    await expect(client.check('doc:draft#view@user:bo')).resolves.toMatchObject({ allowed: false });
    const bad = await client
      .check({ ...request, contextualRelationships: ['doc:draft#owner@user:bo'] })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('writes, reads and watches a relationship with its condition and expiry; an expired one grants nothing', async () => {
    const stop = new AbortController();
    const events: WatchEvent[] = [];
    const watching = (async () => {
      for await (const e of client.watch({ signal: stop.signal })) events.push(e);
    })();
    const expiresAt = new Date(Math.floor((Date.now() + HOUR) / 1000) * 1000 + 250);
    const written = {
      resource: { type: 'doc', id: 'shared' },
      relation: 'viewer',
      subject: { type: 'user', id: 'cy' },
      condition: { name: 'ip_allowlist', context: { cidr: '10.0.0.0/8' } },
      expiresAt,
    };
    await client.write({
      touch: [written],
      create: ['doc:gone#viewer@user:cy[expiration:2001-01-01T00:00:00Z]'],
    });
    const read = await client.read({ filter: { resourceType: 'doc', resourceId: 'shared' } }).toArray();
    expect(read).toEqual([written]);
    await expect(
      client.check({
        resource: 'doc:shared',
        permission: 'view',
        subject: 'user:cy',
        context: { ip: '10.9.9.9' },
      }),
    ).resolves.toMatchObject({ allowed: true });
    await expect(client.check('doc:gone#view@user:cy')).resolves.toMatchObject({ permissionship: 'denied' });
    await expect
      .poll(() => events.flatMap((e) => e.changes).length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    const inserted = events.flatMap((e) => e.changes).find((c) => c.relationship.resource.id === 'shared');
    expect(inserted?.relationship).toEqual(written);
    stop.abort();
    await watching;
  });
});

describe('conditions in the HTTP API as proto3 JSON', () => {
  let server: GatehouseProcess;
  beforeAll(async () => {
    server = await startGatehouse({ policies: POLICIES });
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`http://${server.http}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const ref = (type: string, id: string) => ({ objectType: type, objectId: id });

  it('answers the conditional enum with missingContext, and reads context as a plain JSON object', async () => {
    const check = {
      resource: ref('doc', 'office'),
      permission: 'view',
      subject: { object: ref('user', 'ann') },
    };
    expect(await post('/v1/check', check)).toMatchObject({
      permissionship: 'PERMISSIONSHIP_CONDITIONAL_PERMISSION',
      missingContext: ['ip'],
    });
    expect(await post('/v1/check', { ...check, context: { ip: '10.0.0.1' } })).toMatchObject({
      permissionship: 'PERMISSIONSHIP_HAS_PERMISSION',
    });
    expect(await post('/v1/check', { ...check, context: 'ip=10.0.0.1' })).toMatchObject({
      error: { code: 'INVALID_ARGUMENT', field: 'context' },
    });
  });

  it('reads a relationship condition as a JSON object and its expiry as an RFC 3339 string', async () => {
    const read = await post('/v1/relationships/read', {
      filter: { resourceType: 'doc', optionalResourceId: 'office' },
    });
    expect(read.relationships).toEqual([
      {
        resource: ref('doc', 'office'),
        relation: 'viewer',
        subject: { object: ref('user', 'ann') },
        optionalCondition: { name: 'ip_allowlist', context: { cidr: '10.0.0.0/8' } },
      },
    ]);
    const relationship = {
      resource: ref('doc', 'later'),
      relation: 'viewer',
      subject: { object: ref('user', 'ann') },
      optionalExpiresAt: '2999-01-01T00:00:00.000Z',
    };
    await post('/v1/relationships/write', { updates: [{ operation: 'OPERATION_TOUCH', relationship }] });
    const again = await post('/v1/relationships/read', {
      filter: { resourceType: 'doc', optionalResourceId: 'later' },
    });
    expect(again.relationships).toEqual([relationship]);
  });
});

describe('the expiry sweeper of a running server', () => {
  let server: GatehouseProcess;
  let client: GatehouseClient;
  beforeAll(async () => {
    server = await startGatehouse({ policies: POLICIES, args: ['--expiry-sweep-interval', '20'] });
    client = new GatehouseClient(createHttpTransport({ baseUrl: `http://${server.http}`, token: TOKEN }));
  });
  afterAll(async () => {
    await client?.close();
    expect(await server?.stop()).toBe(0);
  });

  it('deletes expired relationships as ordinary deletes a watcher sees, and counts them', async () => {
    const stop = new AbortController();
    const deletes: string[] = [];
    const watching = (async () => {
      for await (const e of client.watch({ signal: stop.signal }))
        for (const c of e.changes) if (c.operation === 'delete') deletes.push(c.relationship.resource.id);
    })();
    await client.write({
      touch: [
        'doc:stale#viewer@user:ann[expiration:2001-01-01T00:00:00Z]',
        'doc:fresh#viewer@user:ann[expiration:2999-01-01T00:00:00Z]',
      ],
    });
    await expect.poll(() => deletes, { timeout: 10_000 }).toContain('stale');
    const left = await client.read({ filter: { resourceType: 'doc' } }).toArray();
    expect(left.map((r) => r.resource.id).sort()).toEqual(['fresh', 'office', 'open']);
    const metrics = await (await fetch(`http://${server.http}/metrics`)).text();
    expect(metrics).toMatch(/^gatehouse_expired_relationships_removed_total [1-9]/m);
    stop.abort();
    await watching;
  });
});
