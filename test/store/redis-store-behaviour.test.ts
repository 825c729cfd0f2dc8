// RedisStore behaviour beyond the shared contract, against a real redis-server: atomicity,
// snapshots exact at one revision while writers carry on, fast failure when Redis is gone or
// frozen, data loss (FLUSHALL) seen through the epoch, truncation, reconnect after a restart,
// WAIT for replicas, race-safe seeding, and stores sharing one Redis without seeing each other.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ChangelogTruncatedError,
  FailedPreconditionError,
  type GatehouseError,
  StoreEpochChangedError,
  UnavailableError,
} from '../../server/src/errors.js';
import { formatRelationship, parseRelationship } from '../../server/src/model/relationship.js';
import { createLogger } from '../../server/src/observability/logger.js';
import { subjectBucketOf } from '../../server/src/store/redis/redis-layout.js';
import {
  RedisStore,
  type RedisStoreOptions,
  WriteNotReplicatedError,
} from '../../server/src/store/redis/redis-store.js';
import type { ChangeSet, RelationshipUpdate, Store } from '../../server/src/store/store.js';
import { RedisSentinel, RedisServer } from '../support/redis-server.js';
import { PATIENCE } from '../support/wait-until.js';

const touch = (s: string): RelationshipUpdate => ({ operation: 'touch', relationship: parseRelationship(s) });
const del = (s: string): RelationshipUpdate => ({ operation: 'delete', relationship: parseRelationship(s) });

async function rejection(promise: Promise<unknown>): Promise<GatehouseError> {
  try {
    await promise;
  } catch (err) {
    return err as GatehouseError;
  }
  throw new Error('expected the call to reject, but it resolved');
}

async function snapshotOf(store: Store): Promise<{ revision: number; rels: string[] }> {
  const snap = await store.snapshot();
  const rels: string[] = [];
  for await (const chunk of snap.chunks()) rels.push(...chunk.map(formatRelationship));
  return { revision: snap.revision, rels };
}

/** Watches in the background; `ended` settles with the failure (or undefined on a normal end). */
function record(
  store: Store,
  after: number,
): { received: ChangeSet[]; stop: () => void; ended: Promise<unknown> } {
  const received: ChangeSet[] = [];
  const abort = new AbortController();
  const ended = (async (): Promise<unknown> => {
    try {
      for await (const c of store.watch(after, abort.signal)) received.push(c);
      return undefined;
    } catch (err) {
      return err;
    }
  })();
  return { received, stop: () => abort.abort(), ended };
}

describe('RedisStore on a standalone redis-server', () => {
  let server: RedisServer;
  const open: RedisStore[] = [];
  let storeCount = 0;
  const connect = async (options: Partial<RedisStoreOptions> = {}): Promise<RedisStore> => {
    const store = await RedisStore.connect({
      url: server.url,
      storeName: `t${++storeCount}`,
      // Generous: a loaded machine must not time out a command to a live Redis. Tests of the
      // timeouts themselves set short ones against a Redis that cannot answer (frozen, absent).
      commandTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
      watchBlockMs: 100,
      ...options,
    });
    open.push(store);
    return store;
  };

  beforeAll(async () => {
    server = await RedisServer.start({ config: { appendonly: 'yes', appendfsync: 'always' } });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    if (!server.running) await server.restart();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('a failing precondition changes nothing: no relationship, no revision, no changelog entry', async () => {
    const store = await connect();
    await store.write([touch('doc:a#owner@user:x')]);
    const before = await server.cli('XLEN', `{gatehouse:t${storeCount}}:changelog`);
    const err = await rejection(
      store.write(
        [touch('doc:b#owner@user:x'), del('doc:a#owner@user:x')],
        [{ operation: 'must_not_match', filter: { resourceType: 'doc', subjectId: 'x' } }],
      ),
    );
    expect(err).toBeInstanceOf(FailedPreconditionError);
    const late = await rejection(store.write([touch('doc:c#owner@user:x')], [], { expectRevision: 0 }));
    expect(late).toBeInstanceOf(FailedPreconditionError);
    expect(late.message).toContain('moved on');
    expect(await store.revision()).toBe(1);
    expect((await snapshotOf(store)).rels).toEqual(['doc:a#owner@user:x']);
    expect(await server.cli('XLEN', `{gatehouse:t${storeCount}}:changelog`)).toBe(before);
    expect(await store.changelogLength()).toBe(Number(before));
  });

  it('the by-subject buckets mirror the by-resource index whether the client or a script built their members', async () => {
    const store = await connect();
    const tag = `{gatehouse:t${storeCount}}`;
    const members = async (key: string): Promise<string[]> => {
      const out = await server.cli('ZRANGE', `${tag}:${key}`, '0', '-1');
      return out === '' ? [] : out.split('\n').sort();
    };
    const bucketed = async (): Promise<string[]> => {
      const keys = (await server.cli('KEYS', `${tag}:s:*`)).split('\n').filter((k) => k !== '');
      const out: string[] = [];
      for (const key of keys) {
        const bucket = Number(key.slice(`${tag}:s:`.length));
        for (const m of await members(`s:${bucket}`)) {
          // Every member sits in the bucket of its subject object.
          expect(subjectBucketOf(m.slice(0, m.indexOf('#')))).toBe(bucket);
          out.push(m);
        }
      }
      return out.sort();
    };
    await store.write([
      touch('doc:a#viewer@user:x'),
      touch('doc:a#viewer@group:g#member'),
      touch('doc:b#viewer@user:*'),
      touch('folder:f#viewer@user:x'),
    ]);
    expect(await bucketed()).toEqual([
      'group:g#member@doc:a#viewer',
      'user:*#@doc:b#viewer',
      'user:x#@doc:a#viewer',
      'user:x#@folder:f#viewer',
    ]);
    // The script derives the by-subject members and buckets of what a filter deletes; they must be the same.
    await store.deleteByFilter({ resourceType: 'doc', resourceId: 'a' });
    await store.write([del('doc:b#viewer@user:*')]);
    expect(await members('rels')).toEqual(['folder:f#viewer@user:x']);
    expect(await bucketed()).toEqual(['user:x#@folder:f#viewer']);
    // So does seeding, which computes them in the script too.
    const seeded = await connect();
    expect(
      await seeded.seedIfEmpty([
        parseRelationship('doc:s#viewer@user:longer-id_7'),
        parseRelationship('doc:s#viewer@group:h#member'),
      ]),
    ).toBe(true);
    expect(
      (await seeded.read({ subjectType: 'user', subjectId: 'longer-id_7' }, { limit: 10 })).relationships.map(
        formatRelationship,
      ),
    ).toEqual(['doc:s#viewer@user:longer-id_7']);
    expect(
      (await seeded.read({ subjectType: 'group' }, { limit: 10 })).relationships.map(formatRelationship),
    ).toEqual(['doc:s#viewer@group:h#member']);
  });

  it('a subject-type read pages across the buckets, neither skipping nor repeating a relationship', async () => {
    const store = await connect();
    const ids = Array.from({ length: 30 }, (_, i) => `u${i}`);
    await store.write(ids.map((id) => touch(`doc:d#viewer@user:${id}`)));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.read({ subjectType: 'user' }, { limit: 4, cursor });
      seen.push(...page.relationships.map((r) => r.subject.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(seen.sort()).toEqual([...ids].sort());
    expect(seen).toHaveLength(ids.length);
    expect(pages).toBe(8);
  });

  it('a subject-type read walks the buckets in script calls of at most readBucketStep buckets, in bucket order', async () => {
    const step = 1000;
    const store = await connect({ readBucketStep: step });
    const ids = Array.from({ length: 200 }, (_, i) => `u${i}`);
    await store.write([
      ...ids.map((id) => touch(`doc:d#viewer@user:${id}`)),
      touch('doc:d#viewer@group:g#member'),
    ]);
    await store.read({ subjectType: 'user' }, { limit: 1 }); // loads the script (NOSCRIPT, then EVAL)
    await server.cli('CONFIG', 'RESETSTAT');
    const page = await store.read({ subjectType: 'user' }, { limit: 1000 });
    const stats = await server.cli('INFO', 'commandstats');
    const calls = Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1]);
    // A quiet store: one page, no cursor, every bucket visited in ceil(65521 / step) calls.
    expect(page.nextCursor).toBeUndefined();
    expect(calls).toBe(Math.ceil(65521 / step));
    const got = page.relationships.map((r) => r.subject.id);
    const byBucket = [...ids].sort(
      (a, b) => subjectBucketOf(`user:${a}`) - subjectBucketOf(`user:${b}`) || (a < b ? -1 : a > b ? 1 : 0),
    );
    expect(got).toEqual(byBucket);
    // Paging 3 at a time gives the same relationships in the same order.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await store.read({ subjectType: 'user' }, { limit: 3, cursor });
      paged.push(...p.relationships.map((r) => r.subject.id));
      cursor = p.nextCursor;
    } while (cursor !== undefined);
    expect(paged).toEqual(got);
  });

  it('a subject-type page ends before a step that saw a newer revision, and the next page picks it up', async () => {
    const store = await connect({ readBucketStep: 1000 });
    const other = await connect({ storeName: `t${storeCount}` });
    const ids = Array.from({ length: 200 }, (_, i) => `u${i}`);
    const first = await store.write(ids.map((id) => touch(`doc:d#viewer@user:${id}`)));
    // A write lands right after the page's first step (through another instance's connection).
    const client = (store as unknown as { client: { evalsha: (...a: unknown[]) => Promise<unknown> } })
      .client;
    const evalsha = client.evalsha.bind(client);
    let steps = 0;
    client.evalsha = async (...a: unknown[]) => {
      const reply = await evalsha(...a);
      if (++steps === 1) await other.write([touch('doc:late#viewer@user:late')]);
      return reply;
    };
    const page = await store.read({ subjectType: 'user' }, { limit: 1000 });
    expect(steps).toBe(2);
    expect(page.revision).toBe(first.revision);
    expect(page.nextCursor).toEqual(expect.any(String));
    const inFirstStep = ids.filter((id) => subjectBucketOf(`user:${id}`) < 1000);
    expect(page.relationships.map((r) => r.subject.id).sort()).toEqual(inFirstStep.sort());
    const rest: string[] = [];
    let cursor = page.nextCursor;
    while (cursor !== undefined) {
      const p = await store.read({ subjectType: 'user' }, { limit: 1000, cursor });
      rest.push(...p.relationships.map((r) => r.subject.id));
      cursor = p.nextCursor;
    }
    expect([...page.relationships.map((r) => r.subject.id), ...rest].sort()).toEqual([...ids, 'late'].sort());
  });

  it('a snapshot stays exact at its revision while writes land between its chunks', async () => {
    const store = await connect({ snapshotChunkSize: 3 });
    const ids = Array.from({ length: 12 }, (_, i) => `d${String(i).padStart(2, '0')}`);
    await store.write(ids.map((id) => touch(`doc:${id}#viewer@user:x`)));
    const snap = await store.snapshot();
    const expected = ids.map((id) => `doc:${id}#viewer@user:x`);
    const seen: string[] = [];
    let writes = 0;
    for await (const chunk of snap.chunks()) {
      seen.push(...chunk.map(formatRelationship));
      if (writes++ > 0) continue;
      // After the first chunk: delete read and unread ones, insert before and after the cursor,
      // and delete-then-recreate one that is not read yet.
      await store.write([
        del('doc:d00#viewer@user:x'),
        del('doc:d07#viewer@user:x'),
        touch('doc:a#viewer@user:x'),
      ]);
      await store.write([touch('doc:zz#viewer@user:x'), del('doc:d09#viewer@user:x')]);
      await store.write([touch('doc:d09#viewer@user:x'), touch('doc:d05z#viewer@user:x')]);
    }
    expect(snap.revision).toBe(1);
    expect(seen).toEqual(expected);
    // A later snapshot sees the later state.
    const now = await snapshotOf(store);
    expect(now.revision).toBe(4);
    expect(now.rels).toContain('doc:zz#viewer@user:x');
    expect(now.rels).not.toContain('doc:d07#viewer@user:x');
  });

  it('a snapshot fails with ChangelogTruncatedError once the changelog is trimmed past its revision', async () => {
    const store = await connect({ snapshotChunkSize: 2, changelogRetention: 2 });
    await store.write(['a', 'b', 'c', 'd'].map((id) => touch(`doc:${id}#viewer@user:x`)));
    const snap = await store.snapshot();
    const err = await rejection(
      (async () => {
        let first = true;
        for await (const _chunk of snap.chunks()) {
          if (!first) continue;
          first = false;
          for (let i = 0; i < 4; i++) await store.write([touch(`doc:n${i}#viewer@user:x`)]);
        }
      })(),
    );
    expect(err).toBeInstanceOf(ChangelogTruncatedError);
  });

  it('watch after a trimmed revision fails with ChangelogTruncatedError naming the oldest watchable', async () => {
    const store = await connect({ changelogRetention: 3 });
    for (let i = 0; i < 6; i++) await store.write([touch(`doc:d${i}#viewer@user:x`)]);
    const w = record(store, 1);
    const err = (await w.ended) as ChangelogTruncatedError;
    expect(err).toBeInstanceOf(ChangelogTruncatedError);
    expect(err.oldestWatchable).toBe(3);
    expect(w.received).toEqual([]);
  });

  it('FLUSHALL is seen as data loss: watchers and writes fail with StoreEpochChangedError, then the store starts anew', async () => {
    const store = await connect();
    const { epoch } = await store.identity();
    await store.write([touch('doc:a#viewer@user:x')]);
    const w = record(store, 1);
    await server.cli('FLUSHALL');
    const err = (await w.ended) as StoreEpochChangedError;
    expect(err).toBeInstanceOf(StoreEpochChangedError);
    expect(err.previousEpoch).toBe(epoch);
    expect(await rejection(store.write([touch('doc:b#viewer@user:x')]))).toBeInstanceOf(
      StoreEpochChangedError,
    );
    expect(await rejection(store.revision())).toBeInstanceOf(StoreEpochChangedError);
    // identity() adopts (creating) the new epoch; the empty store can then be seeded once.
    const fresh = await store.identity();
    expect(fresh.epoch).not.toBe(epoch);
    expect(await store.revision()).toBe(0);
    expect(await store.seedIfEmpty([parseRelationship('doc:a#viewer@user:x')])).toBe(true);
    expect(await store.revision()).toBe(1);
  });

  it('a watcher also sees an epoch change when new writes follow the flush at once', async () => {
    const store = await connect({ watchBlockMs: 5000 });
    const other = await RedisStore.connect({ url: server.url, storeName: `t${storeCount}` });
    open.push(other);
    for (let i = 0; i < 3; i++) await store.write([touch(`doc:d${i}#viewer@user:x`)]);
    const w = record(store, 3);
    await vi.waitFor(
      async () => expect(await server.cli('CLIENT', 'LIST')).toContain(`t${storeCount}:watch`),
      PATIENCE,
    );
    await server.cli('FLUSHALL');
    await other.identity();
    for (let i = 0; i < 5; i++) await other.write([touch(`doc:n${i}#viewer@user:x`)]);
    expect(await w.ended).toBeInstanceOf(StoreEpochChangedError);
    expect(w.received).toEqual([]);
  });

  it('a store that went back below a revision it reported (lost writes) gets a new epoch, seen by every replica', async () => {
    const store = await connect();
    const other = await RedisStore.connect({ url: server.url, storeName: `t${storeCount}` });
    open.push(other);
    const { epoch } = await store.identity();
    for (let i = 0; i < 3; i++) await store.write([touch(`doc:d${i}#viewer@user:x`)]);
    // A restart from an AOF that missed the last write: revision 3 is gone, the epoch is not.
    await server.cli('SET', `{gatehouse:t${storeCount}}:revision`, '2');
    await server.cli('XDEL', `{gatehouse:t${storeCount}}:changelog`, '3-0');
    const err = (await rejection(store.revision())) as StoreEpochChangedError;
    expect(err).toBeInstanceOf(StoreEpochChangedError);
    expect(err.previousEpoch).toBe(epoch);
    expect(err.currentEpoch).not.toBe(epoch);
    // The other replica never saw revision 3, but the replaced epoch tells it too.
    expect(await rejection(other.write([touch('doc:z#viewer@user:x')]))).toBeInstanceOf(
      StoreEpochChangedError,
    );
    expect((await other.identity()).epoch).toBe(err.currentEpoch);
    // A follower that applied revision 3 and watches from it is told the same way.
    const third = await RedisStore.connect({ url: server.url, storeName: `t${storeCount}` });
    open.push(third);
    await server.cli('SET', `{gatehouse:t${storeCount}}:revision`, '3');
    expect(await third.revision()).toBe(3);
    await server.cli('SET', `{gatehouse:t${storeCount}}:revision`, '2');
    const w = record(third, 3);
    expect(await w.ended).toBeInstanceOf(StoreEpochChangedError);
  });

  it('seedIfEmpty is atomic and race-safe: exactly one of several replicas seeds', async () => {
    const stores = [await connect()];
    for (let i = 0; i < 3; i++) {
      const s = await RedisStore.connect({ url: server.url, storeName: `t${storeCount}` });
      open.push(s);
      stores.push(s);
    }
    const rels = Array.from({ length: 500 }, (_, i) => parseRelationship(`doc:d${i}#viewer@user:u${i % 7}`));
    const results = await Promise.all(stores.map((s) => s.seedIfEmpty(rels)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await stores[0]?.revision()).toBe(1);
    expect((await snapshotOf(stores[1] as Store)).rels).toHaveLength(500);
  });

  it('seedIfEmpty writes a large seed in chunks of 1,000, one revision at the end, which a watcher from 0 resyncs past', async () => {
    const warm = await connect();
    await warm.seedIfEmpty([parseRelationship('doc:w#viewer@user:w')]); // loads the scripts
    const store = await connect();
    const from0 = record(store, 0);
    const rels = Array.from({ length: 2_500 }, (_, i) =>
      parseRelationship(`doc:d${i}#viewer@user:u${i % 97}`),
    );
    await server.cli('CONFIG', 'RESETSTAT');
    expect(await store.seedIfEmpty([...rels, rels[0] as (typeof rels)[number]])).toBe(true);
    const stats = await server.cli('INFO', 'commandstats');
    // begin, three chunks, finish: five script calls, none holding the whole seed.
    expect(Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1])).toBe(5);
    expect(await store.revision()).toBe(1);
    const snap = await snapshotOf(store);
    expect(snap.revision).toBe(1);
    expect(new Set(snap.rels)).toEqual(new Set(rels.map(formatRelationship)));
    expect(snap.rels).toHaveLength(2_500);
    const byUser = await store.read({ subjectType: 'user', subjectId: 'u5' }, { limit: 1000 });
    expect(byUser.relationships).toHaveLength(rels.filter((r) => r.subject.id === 'u5').length);
    // The seed's changelog entry holds no changes: a watcher from 0 is told to resync.
    expect(await from0.ended).toBeInstanceOf(ChangelogTruncatedError);
    expect(await store.seedIfEmpty(rels.slice(0, 3))).toBe(false);
  });

  it('a seed left half-done by a dead replica: reads see an empty store, writes wait, the next seeder starts it over', async () => {
    const store = await connect();
    const tag = `{gatehouse:t${storeCount}}`;
    // What a seeder that died after its first chunk leaves: data at revision 0 and its lease.
    await server.cli('ZADD', `${tag}:rels`, '0', 'doc:old#viewer@user:zz');
    await server.cli('ZADD', `${tag}:s:${subjectBucketOf('user:zz')}`, '0', 'user:zz#@doc:old#viewer');
    await server.cli('SET', `${tag}:seed`, 'dead-seeder', 'PX', '1500');
    expect((await store.read({}, { limit: 10 })).relationships).toEqual([]);
    expect((await snapshotOf(store)).rels).toEqual([]);
    expect(await rejection(store.write([touch('doc:a#viewer@user:x')]))).toBeInstanceOf(UnavailableError);
    expect(await store.revision()).toBe(0);
    // A new seeder waits for the dead one's lease to lapse, removes its data and seeds its own.
    const next = await connect({ storeName: `t${storeCount}` });
    expect(await next.seedIfEmpty([parseRelationship('doc:new#viewer@user:yy')])).toBe(true);
    expect((await snapshotOf(store)).rels).toEqual(['doc:new#viewer@user:yy']);
    expect((await store.read({ subjectType: 'user', subjectId: 'zz' }, { limit: 10 })).relationships).toEqual(
      [],
    );
    expect(await server.cli('EXISTS', `${tag}:seed`, `${tag}:s:${subjectBucketOf('user:zz')}`)).toBe('0');
    expect((await store.write([touch('doc:a#viewer@user:x')])).revision).toBe(2);
  });

  it('a replica waiting for the seed of another stops when it is closed, not when that lease ends', async () => {
    const store = await connect();
    const tag = `{gatehouse:t${storeCount}}`;
    await server.cli('SET', `${tag}:seed`, 'busy-seeder', 'PX', '60000');
    await server.cli('CONFIG', 'RESETSTAT');
    const waiting = rejection(store.seedIfEmpty([parseRelationship('doc:a#viewer@user:x')]));
    // It has asked for the lease and been told to wait.
    await vi.waitFor(async () => {
      const stats = await server.cli('INFO', 'commandstats');
      expect(Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0)).toBeGreaterThan(0);
    }, PATIENCE);
    await store.close();
    expect(await waiting).toBeInstanceOf(UnavailableError);
    expect(await server.cli('GET', `${tag}:seed`)).toBe('busy-seeder');
    expect(await server.cli('EXISTS', `${tag}:rels`)).toBe('0');
  });

  it('stores under different names share one Redis without seeing each other', async () => {
    const a = await connect();
    const b = await connect();
    await a.write([touch('doc:a#viewer@user:x')]);
    expect(await b.revision()).toBe(0);
    expect((await a.identity()).epoch).not.toBe((await b.identity()).epoch);
    expect((await snapshotOf(b)).rels).toEqual([]);
  });

  it('concurrent writes share one script call, yet each is its own atomic write with its own revision', async () => {
    const store = await connect();
    await store.write([touch('doc:a#owner@user:x')]);
    const scriptCalls = async (): Promise<number> => {
      const stats = await server.cli('INFO', 'commandstats');
      return [...stats.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const before = await scriptCalls();
    // Issued in one event-loop turn: one batch. Some fail, each for its own reason.
    const outcomes = await Promise.allSettled([
      store.write([touch('doc:b#owner@user:x')]),
      store.write([{ operation: 'create', relationship: parseRelationship('doc:a#owner@user:x') }]),
      store.write([touch('doc:c#owner@user:x'), del('doc:a#owner@user:x')]),
      store.write(
        [touch('doc:d#owner@user:x')],
        [{ operation: 'must_match', filter: { resourceType: 'doc', resourceId: 'a' } }],
      ),
      store.write([touch('doc:e#owner@user:x')], [], { expectRevision: 3 }),
      store.write([touch('doc:f#owner@user:x')], [], { expectRevision: 1 }),
    ]);
    expect(await scriptCalls()).toBe(before + 1);
    const revisions = outcomes.map((o) => (o.status === 'fulfilled' ? o.value.revision : o.reason.name));
    // In order: b at 2; the create of the present a fails; c and the delete of a at 3; the
    // must_match on a fails (a is gone); e expected revision 3 and got it (4); f did not.
    expect(revisions).toEqual([
      2,
      'AlreadyExistsError',
      3,
      'FailedPreconditionError',
      4,
      'FailedPreconditionError',
    ]);
    expect(await store.revision()).toBe(4);
    expect((await snapshotOf(store)).rels.sort()).toEqual([
      'doc:b#owner@user:x',
      'doc:c#owner@user:x',
      'doc:e#owner@user:x',
    ]);
    const log = record(store, 1);
    await vi.waitFor(() => expect(log.received.map((c) => c.revision)).toEqual([2, 3, 4]), PATIENCE);
    log.stop();
    expect(
      log.received[1]?.changes.map((c) => `${c.operation} ${formatRelationship(c.relationship)}`),
    ).toEqual(['insert doc:c#owner@user:x', 'delete doc:a#owner@user:x']);
  });

  it('a watcher delivers each revision once and in order, its own writes and another instance’s interleaved', async () => {
    const a = await connect();
    const b = await RedisStore.connect({
      url: server.url,
      storeName: `t${storeCount}`,
      commandTimeoutMs: 10_000,
    });
    open.push(b);
    const log = record(a, 0);
    const written: ChangeSet[] = [];
    for (let round = 0; round < 10; round++) {
      const batch = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 === 0 ? a : b).write([touch(`doc:r${round}i${i}#viewer@user:x`)]),
        ),
      );
      written.push(...batch);
    }
    written.sort((x, y) => x.revision - y.revision);
    expect(written.map((c) => c.revision)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    await vi.waitFor(() => expect(log.received).toHaveLength(60), PATIENCE);
    log.stop();
    expect(await log.ended).toBeUndefined();
    expect(log.received.map((c) => c.revision)).toEqual(written.map((c) => c.revision));
    expect(log.received.map((c) => c.changes.map((x) => formatRelationship(x.relationship)))).toEqual(
      written.map((c) => c.changes.map((x) => formatRelationship(x.relationship))),
    );
  });

  it('a watcher follows the change feed: another instance’s writes reach it with no changelog read', async () => {
    // No idle check while the test runs (it would be a legitimate read on a stalled machine).
    const a = await connect({ watchBlockMs: 600_000 });
    const b = await RedisStore.connect({
      url: server.url,
      storeName: `t${storeCount}`,
      commandTimeoutMs: 10_000,
    });
    open.push(b);
    await b.write([touch('doc:before#viewer@user:x')]); // committed before the watch: read from the changelog
    const calls = async (command: string): Promise<number> =>
      Number(
        new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await server.cli('INFO', 'commandstats'))?.[1] ??
          0,
      );
    const log = record(a, 0);
    await vi.waitFor(() => expect(log.received).toHaveLength(1), PATIENCE);
    const [xreads, publishes] = [await calls('xread'), await calls('publish')];
    for (let i = 0; i < 20; i++) await b.write([touch(`doc:d${i}#viewer@user:x`)]);
    await vi.waitFor(() => expect(log.received).toHaveLength(21), PATIENCE);
    expect(log.received.map((c) => c.revision)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(formatRelationship(log.received[20]!.changes[0]!.relationship)).toBe('doc:d19#viewer@user:x');
    // One PUBLISH per write (from the script), and not one XREAD.
    expect(await calls('publish')).toBe(publishes + 20);
    expect(await calls('xread')).toBe(xreads);
    log.stop();
    expect(await log.ended).toBeUndefined();
  });

  it('an ACL user without the feed channel still writes, and its watchers read the changelog instead', async () => {
    const acl = await RedisServer.start();
    try {
      // Keys but no channels (Redis 7's default for a new ACL user), and keys plus the feed.
      await acl.cli('ACL', 'SETUSER', 'keysonly', 'on', '>pw', '~{gatehouse:*}*', 'resetchannels', '+@all');
      await acl.cli(
        'ACL',
        'SETUSER',
        'withfeed',
        'on',
        '>pw',
        '~{gatehouse:*}*',
        '&{gatehouse:*}:changelog:feed',
        '+@all',
      );
      for (const [user, refused] of [
        ['keysonly', true],
        ['withfeed', false],
      ] as const) {
        const lines: string[] = [];
        const store = await RedisStore.connect({
          url: `redis://${user}:pw@127.0.0.1:${acl.port}`,
          storeName: user,
          commandTimeoutMs: 10_000,
          watchBlockMs: 100,
          logger: createLogger('warn', { write: (line: string) => lines.push(line) }),
        });
        open.push(store);
        const log = record(store, 0);
        const other = await RedisStore.connect({
          url: `redis://${user}:pw@127.0.0.1:${acl.port}`,
          storeName: user,
        });
        open.push(other);
        for (let i = 0; i < 5; i++)
          expect((await other.write([touch(`doc:d${i}#viewer@user:x`)])).revision).toBe(i + 1);
        await vi.waitFor(
          () => expect(log.received.map((c) => c.revision)).toEqual([1, 2, 3, 4, 5]),
          PATIENCE,
        );
        expect(lines.some((l) => l.includes('refused the change feed'))).toBe(refused);
        log.stop();
        expect(await log.ended).toBeUndefined();
      }
    } finally {
      await Promise.all(open.splice(0).map((s) => s.close()));
      await acl.stop();
    }
  });

  it('the changelog keeps at most changelogMaxBytes of change lines, always its newest entry', async () => {
    const store = await connect({ changelogMaxBytes: 200 });
    const key = `{gatehouse:t${storeCount}}:changelog`;
    const admin = new Redis(server.port, '127.0.0.1');
    /** Each entry's revision and change-line bytes, oldest first. */
    const entries = async (): Promise<{ revision: number; bytes: number }[]> =>
      (await admin.xrange(key, '-', '+')).map(([id, fields]) => ({
        revision: Number(id.split('-')[0]),
        bytes: (fields[fields.indexOf('c') + 1] ?? '').length,
      }));
    try {
      // 10 writes of a 25-byte line each (`+doc:dN#viewer@user:xxxxx`): 250 bytes in all, 8 fit.
      for (let i = 0; i < 10; i++) await store.write([touch(`doc:d${i}#viewer@user:xxxxx`)]);
      let kept = await entries();
      expect(kept.map((e) => e.revision)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(kept.reduce((n, e) => n + e.bytes, 0)).toBeLessThanOrEqual(200);
      // A watcher from before the oldest kept entry is told to resync, naming what is left.
      const log = record(store, 1);
      expect(await log.ended).toMatchObject({ name: 'ChangelogTruncatedError', oldestWatchable: 2 });
      // One change set larger than the bound: it alone stays.
      const big = Array.from({ length: 20 }, (_, i) => touch(`doc:big${i}#viewer@user:xxxxx`));
      const bigSet = await store.write(big);
      kept = await entries();
      expect(kept).toEqual([{ revision: bigSet.revision, bytes: expect.any(Number) }]);
      expect(kept[0]!.bytes).toBeGreaterThan(200);
      // And it goes at the next write.
      await store.write([touch('doc:after#viewer@user:xxxxx')]);
      expect((await entries()).map((e) => e.revision)).toEqual([bigSet.revision + 1]);
    } finally {
      admin.disconnect();
    }
  });

  it('never trims by bytes past entries an older build wrote (they carry no running total)', async () => {
    const store = await connect({ changelogRetention: 5, changelogMaxBytes: 50 });
    const tag = `{gatehouse:t${storeCount}}`;
    const admin = new Redis(server.port, '127.0.0.1');
    const revisions = async (): Promise<number[]> =>
      (await admin.xrange(`${tag}:changelog`, '-', '+')).map(([id]) => Number(id.split('-')[0]));
    try {
      // Three change sets as a build before the byte bound wrote them: no `b`, no byte counter.
      const epoch = (await admin.get(`${tag}:epoch`)) as string;
      for (let i = 1; i <= 3; i++) {
        const rev = await admin.incr(`${tag}:revision`);
        await admin.xadd(
          `${tag}:changelog`,
          `${rev}-0`,
          'e',
          epoch,
          't',
          '0',
          'c',
          `+doc:old${i}#viewer@user:xxxx`,
        );
      }
      // 25-byte lines: two are already over 50 bytes with the old entries, which stay.
      for (let i = 0; i < 2; i++) await store.write([touch(`doc:d${i}#viewer@user:xxxxx`)]);
      expect(await revisions()).toEqual([1, 2, 3, 4, 5]);
      // Once the count bound has trimmed the old entries, the byte bound applies: 50 bytes, two entries.
      for (let i = 2; i < 5; i++) await store.write([touch(`doc:d${i}#viewer@user:xxxxx`)]);
      expect(await revisions()).toEqual([7, 8]);
    } finally {
      admin.disconnect();
    }
  });

  it('stamps each commit with Redis time in ms to the microsecond, in the changelog and the write reply', async () => {
    const store = await connect();
    const tag = `{gatehouse:t${storeCount}}`;
    const admin = new Redis(server.port, '127.0.0.1');
    try {
      const [seconds, micros] = await admin.time();
      const before = Number(seconds) * 1000 + Number(micros) / 1000;
      const written = await store.write([touch('doc:stamp#viewer@user:x')]);
      const [[, fields]] = (await admin.xrange(`${tag}:changelog`, '-', '+')) as [[string, string[]]];
      const t = fields[fields.indexOf('t') + 1] as string;
      // Three decimals: a replica can time a delay of about a millisecond against it.
      expect(t).toMatch(/^\d+\.\d{3}$/);
      expect(written.committedAt).toBe(Number(t));
      expect(Number(t)).toBeGreaterThanOrEqual(Math.floor(before));
      expect(Number(t) - before).toBeLessThan(60_000);
    } finally {
      admin.disconnect();
    }
  });

  it('with waitReplicas and no replica, a write reports that it committed but is not replicated', async () => {
    const store = await connect({ waitReplicas: 1, waitTimeoutMs: 50 });
    const err = (await rejection(store.write([touch('doc:a#viewer@user:x')]))) as WriteNotReplicatedError;
    expect(err).toBeInstanceOf(WriteNotReplicatedError);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.changeSet.revision).toBe(1);
    expect(err.message).toContain('committed at revision 1');
    expect(await store.revision()).toBe(1);
    // A failing precondition is still a plain failure: WAIT only matters for committed writes.
    const pre = await rejection(
      store.write([], [{ operation: 'must_match', filter: { resourceType: 'nothing' } }]),
    );
    expect(pre).toBeInstanceOf(FailedPreconditionError);
  });

  it('a frozen Redis (SIGSTOP) fails writes and reads with UnavailableError instead of hanging', async () => {
    // Long enough for the commands before the freeze to answer on a loaded machine; the two
    // during it time out whatever the bound.
    const store = await connect({ commandTimeoutMs: 2_000 });
    await store.write([touch('doc:a#viewer@user:x')]);
    server.freeze();
    try {
      expect(await rejection(store.write([touch('doc:b#viewer@user:x')]))).toBeInstanceOf(UnavailableError);
      expect(await rejection(store.revision())).toBeInstanceOf(UnavailableError);
    } finally {
      server.thaw();
    }
    expect(store.stats().errors.timeout).toBe(2);
    await vi.waitFor(async () => expect(await store.revision()).toBe(2), PATIENCE);
  });

  it('survives a Redis restart: calls fail with UnavailableError while it is down, then reconnect by themselves', async () => {
    const store = await connect();
    const first = await store.write([touch('doc:a#viewer@user:x')]);
    const w = record(store, 0);
    await vi.waitFor(() => expect(w.received).toHaveLength(1), PATIENCE);
    await server.kill('SIGKILL');
    expect(await w.ended).toBeInstanceOf(UnavailableError);
    expect(await rejection(store.write([touch('doc:b#viewer@user:x')]))).toBeInstanceOf(UnavailableError);
    expect(await rejection(store.revision())).toBeInstanceOf(UnavailableError);
    const watchDown = record(store, 1);
    expect(await watchDown.ended).toBeInstanceOf(UnavailableError);
    await server.restart();
    // AOF with appendfsync always: the acknowledged write survived the kill, and the epoch too.
    await vi.waitFor(async () => expect(await store.revision()).toBe(1), PATIENCE);
    expect(store.stats().reconnects).toBeGreaterThan(0);
    expect(store.stats().errors.connection).toBeGreaterThanOrEqual(2);
    const again = record(store, first.revision);
    const next = await store.write([touch('doc:b#viewer@user:x')]);
    await vi.waitFor(() => expect(again.received).toEqual([next]), PATIENCE);
    again.stop();
    expect(await again.ended).toBeUndefined();
  });

  it('refuses to connect to a Redis that is not there, quickly and with UnavailableError', async () => {
    const err = await rejection(
      RedisStore.connect({ url: 'redis://127.0.0.1:1', storeName: 'x', connectTimeoutMs: 300 }),
    );
    expect(err).toBeInstanceOf(UnavailableError);
  });
});

describe('RedisStore through Sentinel', () => {
  let master: RedisServer;
  let sentinel: RedisSentinel;

  beforeAll(async () => {
    master = await RedisServer.start();
    sentinel = await RedisSentinel.start(master, 'gatehouse');
  });
  afterAll(async () => {
    await sentinel?.stop();
    await master?.stop();
  });

  it('finds the master through redis+sentinel:// and serves writes, reads and watches', async () => {
    const store = await RedisStore.connect({
      url: `redis+sentinel://127.0.0.1:${sentinel.port}/gatehouse`,
      storeName: 'via-sentinel',
      watchBlockMs: 100,
    });
    try {
      const w = record(store, 0);
      const cs = await store.write([touch('doc:a#viewer@user:x')]);
      await vi.waitFor(() => expect(w.received).toEqual([cs]), PATIENCE);
      const page = await store.read({ subjectType: 'user', subjectId: 'x' }, { limit: 10 });
      expect(page.relationships.map(formatRelationship)).toEqual(['doc:a#viewer@user:x']);
      // The data really is on the master Sentinel named.
      expect(await master.cli('GET', '{gatehouse:via-sentinel}:revision')).toBe('1');
      w.stop();
      expect(await w.ended).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
