// Write and admin use cases: schema validation leaves state unchanged, bearer auth, limits,
// deleteObject consequences, reads and watch.

import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { collectSnapshot, MemoryStore } from '../../server/src/store/index.js';
import type { RelationshipUpdate } from '../../server/src/store/store.js';
import { checkOf, ctx, type Fixture, fixturePolicySet, startService, TOKEN } from './fixture.js';

let f: Fixture;
beforeEach(async () => {
  // Checks open, as a deployer may choose: this suite is about writes and reads (scopes: auth-scopes.test.ts).
  f = await startService({ token: TOKEN, openScopes: ['check'], limits: { maxWriteUpdates: 3 } });
});
afterEach(() => f.service.close());

const auth = (): ReturnType<typeof ctx> => ctx({ token: TOKEN });
const touch = (resource: string, relation: string, subject: string): RelationshipUpdate => {
  const c = checkOf(resource, relation, subject);
  return { operation: 'touch', relationship: { resource: c.resource, relation, subject: c.subject } };
};

describe('writeRelationships', () => {
  it('commits one revision and the graph sees it at once', async () => {
    const before = f.service.revision;
    const r = await f.service.writeRelationships(
      { updates: [touch('document:plan', 'viewer', 'user:carol')] },
      auth(),
    );
    expect(f.service.revision).toBe(before + 1);
    expect((await f.service.check(checkOf('document:plan', 'view', 'user:carol'), ctx())).allowed).toBe(true);
    expect(r.token).toBe(
      (await f.service.check(checkOf('document:plan', 'view', 'user:carol'), ctx())).token,
    );
  });

  it.each([
    ['an unknown relation', touch('document:plan', 'viewr', 'user:carol'), 'updates[1].relationship'],
    [
      'a subject type the relation does not allow',
      touch('document:plan', 'owner', 'group:eng'),
      'updates[1].relationship',
    ],
    [
      'a wildcard where none is allowed',
      touch('document:plan', 'owner', 'user:*'),
      'updates[1].relationship',
    ],
    ['a malformed id', touch('document:pl an', 'viewer', 'user:carol'), 'updates[1].relationship.resource'],
  ])('rejects %s with INVALID_ARGUMENT and changes nothing', async (_name, bad, field) => {
    const before = await f.store.snapshot();
    const write = f.service.writeRelationships(
      { updates: [touch('document:plan', 'viewer', 'user:dan'), bad] },
      auth(),
    );
    await expect(write).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field });
    const after = await f.store.snapshot();
    expect(after.revision).toBe(before.revision);
    expect(await collectSnapshot(after)).toHaveLength((await collectSnapshot(before)).length);
  });

  it('refuses writes without the token, or with the wrong one, and changes nothing', async () => {
    const before = f.service.revision;
    const update = { updates: [touch('document:plan', 'viewer', 'user:carol')] };
    await expect(f.service.writeRelationships(update, ctx())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    await expect(f.service.writeRelationships(update, ctx({ token: 'wrong' }))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/not valid/),
    });
    expect(f.service.revision).toBe(before);
  });

  it('enforces the update limit and preconditions atomically', async () => {
    const many = ['a', 'b', 'c', 'd'].map((u) => touch('document:plan', 'viewer', `user:${u}`));
    await expect(f.service.writeRelationships({ updates: many }, auth())).rejects.toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
    });
    const guarded = f.service.writeRelationships(
      {
        updates: [touch('document:plan', 'viewer', 'user:carol')],
        preconditions: [
          { operation: 'must_match', filter: { resourceType: 'document', resourceId: 'nonexistent' } },
        ],
      },
      auth(),
    );
    await expect(guarded).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect((await f.service.check(checkOf('document:plan', 'view', 'user:carol'), ctx())).allowed).toBe(
      false,
    );
  });

  it('reports ALREADY_EXISTS for a create of a stored relationship', async () => {
    const create = { ...touch('document:plan', 'owner', 'user:bob'), operation: 'create' as const };
    await expect(f.service.writeRelationships({ updates: [create] }, auth())).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
  });
});

describe('audit log', () => {
  it('logs one debug line per committed write, with the request id, and nothing for reads', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const set = fixturePolicySet();
    const service = await GatehouseService.create({
      schema: set.schema,
      store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
      limits: DEFAULT_LIMITS,
      logger: pino({ level: 'debug' }, sink),
    });
    await service.check(checkOf('document:plan', 'view', 'user:alice'), ctx());
    expect(lines).toHaveLength(0);
    await service.writeRelationships(
      { updates: [touch('document:plan', 'viewer', 'user:carol')] },
      { ...ctx(), requestId: 'w-1' },
    );
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      msg: 'committed',
      operation: 'WriteRelationships',
      requestId: 'w-1',
      revision: 2,
      changes: 1,
    });
    service.close();
  });
});

describe('deletes', () => {
  it('deleteObject removes the object everywhere and applies declared consequences in one revision', async () => {
    const before = f.service.revision;
    const r = await f.service.deleteObject({ object: { type: 'group', id: 'eng' } }, auth());
    expect(f.service.revision).toBe(before + 1);
    // eng lost alice, its membership in staff and plan's viewer grant; plan reverts to everyone.
    expect(r.deletedCount).toBe(3);
    expect(r.consequences).toEqual([
      { resource: { type: 'document', id: 'plan' }, relation: 'viewer', subject: { type: 'user', id: '*' } },
    ]);
    expect((await f.service.check(checkOf('document:plan', 'view', 'user:stranger'), ctx())).allowed).toBe(
      true,
    );
    expect((await f.service.check(checkOf('document:readme', 'view', 'user:alice'), ctx())).allowed).toBe(
      false,
    );
  });

  it('deleteRelationships needs a resource type and deletes by filter', async () => {
    await expect(f.service.deleteRelationships({ filter: {} }, auth())).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'filter.resourceType',
    });
    const r = await f.service.deleteRelationships(
      { filter: { resourceType: 'document', relation: 'owner' } },
      auth(),
    );
    expect(r.deletedCount).toBe(2);
    expect((await f.service.check(checkOf('document:plan', 'edit', 'user:bob'), ctx())).allowed).toBe(false);
  });

  it('rejects deleting an object of an unknown type', async () => {
    await expect(
      f.service.deleteObject({ object: { type: 'grop', id: 'eng' } }, auth()),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/did you mean 'group'/),
    });
  });
});

describe('reads and watch', () => {
  it('reads pages by filter and requires the token', async () => {
    await expect(
      f.service.readRelationships({ filter: { resourceType: 'document' } }, ctx()),
    ).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    const page = await f.service.readRelationships(
      { filter: { resourceType: 'document' }, pageSize: 3 },
      auth(),
    );
    expect(page.relationships).toHaveLength(3);
    const rest = await f.service.readRelationships(
      { filter: { resourceType: 'document' }, cursor: page.nextCursor },
      auth(),
    );
    expect(rest.relationships).toHaveLength(1);
    expect(rest.nextCursor).toBeUndefined();
  });

  it('streams changes committed after the start token, in order', async () => {
    const first = await f.service.writeRelationships(
      { updates: [touch('document:plan', 'viewer', 'user:w1')] },
      auth(),
    );
    const feed = await f.service.watch({ startToken: first.token }, auth());
    const second = await f.service.writeRelationships(
      { updates: [touch('document:plan', 'viewer', 'user:w2')] },
      auth(),
    );
    await f.service.writeRelationships({ updates: [touch('document:plan', 'viewer', 'user:w3')] }, auth());
    const a = await feed.next();
    const b = await feed.next();
    expect(a.value?.token).toBe(second.token);
    expect(a.value?.changes[0]?.relationship.subject.id).toBe('w2');
    expect(b.value?.changes[0]?.relationship.subject.id).toBe('w3');
    await feed.return();
    expect((await feed.next()).done).toBe(true);
  });

  it('ends a watch whose consumer falls too far behind with RESOURCE_EXHAUSTED', async () => {
    const small = await startService({ token: TOKEN, openScopes: ['check', 'read'] });
    const feed = await small.service.watch({}, auth());
    for (let i = 0; i < 4100; i++) {
      await small.store.write([touch('document:plan', 'viewer', `user:u${i}`)]);
    }
    let failure: unknown;
    try {
      for await (const _ of feed) {
        // drain what was buffered before the feed gave up
      }
    } catch (err) {
      failure = err;
    }
    expect(failure).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    small.service.close();
  });

  it('ends a watch whose replay from its start token overflows the buffer before it is read', async () => {
    const small = await startService({ token: TOKEN, openScopes: ['check', 'read'] });
    const start = await small.service.writeRelationships(
      { updates: [touch('document:plan', 'viewer', 'user:s')] },
      auth(),
    );
    for (let i = 0; i < 4100; i++) await small.store.write([touch('document:plan', 'viewer', `user:r${i}`)]);
    const feed = await small.service.watch({ startToken: start.token }, auth());
    // The memory store replays in microtasks: one macrotask later the whole replay was offered.
    await new Promise((resolve) => setImmediate(resolve));
    let events = 0;
    await expect(
      (async () => {
        for await (const _ of feed) events++;
      })(),
    ).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect(events).toBe(4096);
    small.service.close();
  });

  it('replays more revisions than the buffer holds to a consumer that reads along', async () => {
    const small = await startService({ token: TOKEN, openScopes: ['check', 'read'] });
    const start = await small.service.writeRelationships(
      { updates: [touch('document:plan', 'viewer', 'user:s')] },
      auth(),
    );
    for (let i = 0; i < 4100; i++) await small.store.write([touch('document:plan', 'viewer', `user:r${i}`)]);
    const feed = await small.service.watch({ startToken: start.token }, auth());
    let events = 0;
    for await (const _ of feed) if (++events === 4100) break;
    expect(events).toBe(4100);
    small.service.close();
  });

  it('ends watch streams at shutdown with UNAVAILABLE and stops being ready', async () => {
    const feed = await f.service.watch({}, auth());
    expect(f.service.ready).toBe(true);
    f.service.beginShutdown();
    expect(f.service.ready).toBe(false);
    await expect(feed.next()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
