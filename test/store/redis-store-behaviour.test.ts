// RedisStore behaviour beyond the shared contract, against a real redis-server: atomicity,
// snapshots exact at one revision while writers carry on, fast failure when Redis is gone or
// frozen, data loss (FLUSHALL) seen through the epoch, truncation, reconnect after a restart,
// WAIT for replicas, race-safe seeding, and stores sharing one Redis without seeing each other.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AlreadyExistsError,
  ChangelogTruncatedError,
  FailedPreconditionError,
  type GatehouseError,
  StoreEpochChangedError,
  UnavailableError,
} from '../../server/src/errors.js';
import {
  formatRelationship,
  formatRelationshipWithAttributes,
  parseRelationship,
} from '../../server/src/model/relationship.js';
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

/** Waits until the oldest (or newest) relationship image Redis keeps of `storeName` is at least at `revision`. */
async function imageReaches(
  server: RedisServer,
  storeName: string,
  which: 'oldest' | 'newest',
  revision: number,
): Promise<void> {
  const at = which === 'oldest' ? '0' : '-1';
  await vi.waitFor(async () => {
    const image = await server.cli(
      'ZRANGE',
      `{gatehouse:${storeName}}:image:relationships-1:revs`,
      at,
      at,
      'WITHSCORES',
    );
    expect(Number(image.split('\n')[1] ?? -1)).toBeGreaterThanOrEqual(revision);
  }, PATIENCE);
}

/**
 * The changelog is trimmed only behind the oldest relationship image kept (two are), and images
 * are published in the background: waits until the oldest kept image of `store` is at least at
 * `revision`, so the next write trims as far as its bounds say.
 */
function imagesReach(server: RedisServer, storeName: string, revision: number): Promise<void> {
  return imageReaches(server, storeName, 'oldest', revision);
}

/**
 * Writes through `store`, then waits until Redis holds an image of that write's revision: with
 * imageEveryChanges 1, an image of every revision (a replica publishes the image of its copy as
 * it stands when one is due, so writes made while one is published share the next).
 */
async function writeImaged(
  server: RedisServer,
  store: RedisStore,
  storeName: string,
  updates: RelationshipUpdate[],
): Promise<ChangeSet> {
  const written = await store.write(updates);
  await imageReaches(server, storeName, 'newest', written.revision);
  return written;
}

/**
 * Resets Redis's command stats, starts `call`, and returns once Redis has run a script for it
 * (`scripts` of them, or any): `refused` is how the call then fails (see rejection).
 */
async function rejectionAfterScripts(
  server: RedisServer,
  call: () => Promise<unknown>,
  scripts?: number,
): Promise<{ refused: Promise<GatehouseError> }> {
  await server.cli('CONFIG', 'RESETSTAT');
  const refused = rejection(call());
  await vi.waitFor(async () => {
    const calls = await scriptCalls(server);
    if (scripts === undefined) expect(calls).toBeGreaterThan(0);
    else expect(calls).toBe(scripts);
  }, PATIENCE);
  return { refused };
}

/** Stops `store`'s mirror applying changes (its next plans are made where it stands); returns the release. */
function holdMirror(store: RedisStore): () => void {
  return (store as unknown as { mirror: { hold(): () => void } }).mirror.hold();
}

/** Calls of `command` Redis ran since its stats were last reset. */
async function commandCalls(server: RedisServer, command: string): Promise<number> {
  const stats = await server.cli('INFO', 'commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

/** EVALSHA calls Redis ran since its stats were last reset: the commits sent, refused ones included. */
async function scriptCalls(server: RedisServer): Promise<number> {
  const stats = await server.cli('INFO', 'commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
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
  /**
   * Another instance of the store `connect` opened last, with the default idle check (1 s, not
   * connect's 100 ms): its own watchers then read the changelog only for a gap.
   */
  const anotherInstance = async (): Promise<RedisStore> => {
    const store = await RedisStore.connect({
      url: server.url,
      storeName: `t${storeCount}`,
      commandTimeoutMs: 10_000,
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

  it('Redis holds no relationship: the commit stamps each object and type a change touched with its revision', async () => {
    const store = await connect();
    const tag = `{gatehouse:t${storeCount}}`;
    await store.write([touch('doc:a#viewer@user:x'), touch('doc:a#viewer@group:g#member')]);
    await store.write([touch('folder:f#viewer@user:x')]);
    await store.deleteByFilter({ resourceType: 'doc', resourceId: 'a', subjectType: 'group' });
    const keys = (await server.cli('KEYS', `${tag}:*`)).split('\n').filter(Boolean).sort();
    expect(keys).toEqual(
      ['changelog', 'changelog:bytes', 'epoch', 'revision', 'versions'].map((k) => `${tag}:${k}`),
    );
    const admin = new Redis(server.port, '127.0.0.1');
    const versions = await admin.hgetall(`${tag}:versions`);
    admin.disconnect();
    // Each relationship changed has a field of its own (`k:` and a hash), whatever its attributes.
    const relationshipFields = Object.keys(versions).filter((f) => f.startsWith('k:'));
    expect(relationshipFields).toHaveLength(3);
    for (const f of relationshipFields) delete versions[f];
    expect(versions).toEqual({
      '*': '3',
      'r:doc:a': '3',
      'rt:doc': '3',
      's:group:g': '3',
      'st:group': '3',
      's:user:x': '2',
      'st:user': '2',
      'r:folder:f': '2',
      'rt:folder': '2',
    });
    // Another instance, with a mirror of its own, reads the same.
    const other = await connect({ storeName: `t${storeCount}` });
    expect(
      (await other.read({ subjectType: 'user', subjectId: 'x' }, { limit: 10 })).relationships.map(
        formatRelationship,
      ),
    ).toEqual(['doc:a#viewer@user:x', 'folder:f#viewer@user:x']);
  });

  it('a write planned on a stale mirror is refused by the commit and replanned: concurrent creates and compare-and-sets lose nothing', async () => {
    const stores = [await connect()];
    const name = `t${storeCount}`;
    for (let i = 0; i < 3; i++) stores.push(await connect({ storeName: name }));
    // Each instance creates the same relationship at once: exactly one commits.
    const creates = await Promise.allSettled(
      stores.map((s) =>
        s.write([{ operation: 'create', relationship: parseRelationship('doc:a#owner@user:x') }]),
      ),
    );
    expect(creates.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of creates) if (o.status === 'rejected') expect(o.reason.name).toBe('AlreadyExistsError');
    // A counter kept as `doc:counter#count@user:nN`: each increment replaces N by N+1 under a
    // precondition that N is still there; 40 increments from four instances, retried on refusal.
    await stores[0]!.write([touch('doc:counter#count@user:n0')]);
    const increment = async (store: RedisStore): Promise<void> => {
      for (;;) {
        const page = await store.read({ resourceType: 'doc', resourceId: 'counter' }, { limit: 1 });
        const n = Number(page.relationships[0]!.subject.id.slice(1));
        try {
          await store.write(
            [del(`doc:counter#count@user:n${n}`), touch(`doc:counter#count@user:n${n + 1}`)],
            [
              {
                operation: 'must_match',
                filter: { resourceType: 'doc', resourceId: 'counter', subjectId: `n${n}` },
              },
            ],
          );
          return;
        } catch (err) {
          if (!(err instanceof FailedPreconditionError)) throw err;
        }
      }
    };
    await Promise.all(stores.flatMap((s) => Array.from({ length: 10 }, () => increment(s))));
    const final = await stores[3]!.read({ resourceType: 'doc', resourceId: 'counter' }, { limit: 10 });
    expect(final.relationships.map(formatRelationship)).toEqual(['doc:counter#count@user:n40']);
  });

  it('a new instance starts its mirror from the newest image; a corrupt one is dropped for the one before', async () => {
    const writer = await connect({ imageEveryChanges: 1 });
    const name = `t${storeCount}`;
    const tag = `{gatehouse:${name}}`;
    for (let i = 0; i < 10; i++) await writeImaged(server, writer, name, [touch(`doc:d${i}#viewer@user:x`)]);
    // Images at 9 and 10 (two kept), published in the background by the writer's mirror.
    expect(await server.cli('ZRANGE', `${tag}:image:relationships-1:revs`, '0', '-1')).toMatch(/:9\n.*:10$/);
    const epoch = (await writer.identity()).epoch;
    await server.cli('SET', `${tag}:image:relationships-1:${epoch}:10:c:0`, 'not deflate');
    const reader = await connect({ storeName: `t${storeCount}` });
    const page = await reader.read({ resourceType: 'doc' }, { limit: 100 });
    expect(page.relationships).toHaveLength(10);
    // The corrupt image is gone; the one at 9 served, and the changelog after it.
    expect(await server.cli('ZRANGE', `${tag}:image:relationships-1:revs`, '0', '-1')).not.toMatch(/:10$/);
  });

  it('version fields move to a previous generation when full; a plan older than both is refused, not committed unchecked', async () => {
    const a = await connect();
    const late = await connect({ storeName: `t${storeCount}` });
    await late.read({}, { limit: 1 }); // its mirror holds the empty store, revision 0
    const release = holdMirror(late);
    // Four writes of 60,000 relationships: each stamps ~120,000 fields (its relationships and
    // their resource objects), more than a generation holds, so each write ends one: after the
    // fourth the previous generation starts at revision 4, and revision 1's stamps are gone.
    for (let w = 0; w < 4; w++) {
      await a.write(
        Array.from({ length: 60_000 }, (_, i) => touch(`doc:w${w}r${i}#viewer@user:u${i % 100}`)),
      );
    }
    const tag = `{gatehouse:t${storeCount - 1}}`;
    expect(Number(await server.cli('HGET', `${tag}:versions:previous`, '!since'))).toBe(4);
    // Planned on the empty copy: creating doc:w0r0 looks fine there; its stamp (revision 1) is
    // no longer recorded, so only the floor can refuse it.
    const create = await rejectionAfterScripts(server, () =>
      late.write([{ operation: 'create', relationship: parseRelationship('doc:w0r0#viewer@user:u0') }]),
    );
    release();
    expect(await create.refused).toBeInstanceOf(AlreadyExistsError);
    expect(await late.revision()).toBe(4);
  }, 60_000);

  it('a mirror that finds a change set does not apply to it is dropped and rebuilt, never served', async () => {
    const a = await connect();
    const b = await connect({ storeName: `t${storeCount}` });
    await a.write([touch('doc:x#viewer@user:x')]);
    // A copy that went wrong on its own (a bug): revision 2 with a relationship the store never had.
    const mirror = (a as unknown as { mirror: { current?: { copy: Store } } }).mirror;
    await mirror.current?.copy.write([touch('doc:bogus#viewer@user:x')]);
    // The store's revision 2 does not follow the copy's: the copy is rebuilt from Redis.
    await b.write([touch('doc:y#viewer@user:y')]);
    await vi.waitFor(async () => {
      const page = await a.read({}, { limit: 10 });
      expect(page.relationships.map(formatRelationship)).toEqual([
        'doc:x#viewer@user:x',
        'doc:y#viewer@user:y',
      ]);
    }, PATIENCE);
  });

  it('converts a store an older build wrote (relationships in two indexes) into an image, then drops the indexes', async () => {
    const tag = `{gatehouse:t${storeCount + 1}}`;
    // What an older build left: revision 2, its epoch, both indexes and the attributes hash.
    await server.cli('SET', `${tag}:epoch`, 'legacyepoch00001');
    await server.cli('SET', `${tag}:revision`, '2');
    await server.cli('ZADD', `${tag}:rels`, '0', 'doc:a#viewer@user:x', '0', 'doc:b#viewer@user:y');
    await server.cli('ZADD', `${tag}:s:${subjectBucketOf('user:x')}`, '0', 'user:x#@doc:a#viewer');
    await server.cli('ZADD', `${tag}:s:${subjectBucketOf('user:y')}`, '0', 'user:y#@doc:b#viewer');
    await server.cli('HSET', `${tag}:attrs`, 'doc:b#viewer@user:y', '[expiration:2100-01-01T00:00:00Z]');
    for (const [rev, line] of [
      [1, '+doc:a#viewer@user:x'],
      [2, '+doc:b#viewer@user:y[expiration:2100-01-01T00:00:00Z]'],
    ] as const) {
      await server.cli('XADD', `${tag}:changelog`, `${rev}-0`, 'e', 'legacyepoch00001', 't', '0', 'c', line);
    }
    const store = await connect();
    expect((await store.read({}, { limit: 10 })).relationships.map(formatRelationshipWithAttributes)).toEqual(
      ['doc:a#viewer@user:x', 'doc:b#viewer@user:y[expiration:2100-01-01T00:00:00.000Z]'],
    );
    await vi.waitFor(async () => {
      expect(
        await server.cli('EXISTS', `${tag}:rels`, `${tag}:attrs`, `${tag}:s:${subjectBucketOf('user:x')}`),
      ).toBe('0');
    }, PATIENCE);
    expect(await server.cli('ZRANGE', `${tag}:image:relationships-1:revs`, '0', '-1')).toBe(
      'legacyepoch00001:2',
    );
    // Writes carry on from revision 2, and a new instance starts from the image.
    expect((await store.write([del('doc:a#viewer@user:x')])).revision).toBe(3);
    const next = await connect({ storeName: `t${storeCount}` });
    expect((await next.read({}, { limit: 10 })).relationships.map(formatRelationship)).toEqual([
      'doc:b#viewer@user:y',
    ]);
  });

  it('a subject-type read pages through the mirror, neither skipping nor repeating a relationship', async () => {
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

  it('watch after a trimmed revision fails with ChangelogTruncatedError naming the oldest watchable', async () => {
    const store = await connect({ changelogRetention: 3, imageEveryChanges: 1 });
    const name = `t${storeCount}`;
    for (let i = 0; i < 6; i++) await writeImaged(server, store, name, [touch(`doc:d${i}#viewer@user:x`)]);
    await imagesReach(server, name, 5);
    // Revision 7 trims by count to 4, which the oldest image (5) allows.
    await store.write([touch('doc:d6#viewer@user:x')]);
    const w = record(store, 1);
    const err = (await w.ended) as ChangelogTruncatedError;
    expect(err).toBeInstanceOf(ChangelogTruncatedError);
    expect(err.oldestWatchable).toBe(4);
    expect(w.received).toEqual([]);
  });

  it('never trims the changelog past the oldest image: without one it keeps every change', async () => {
    const store = await connect({ changelogRetention: 3, changelogMaxBytes: 50 });
    for (let i = 0; i < 8; i++) await store.write([touch(`doc:d${i}#viewer@user:xxxxx`)]);
    expect(await store.changelogLength()).toBe(8);
    // A new instance (no image to start from) replays the whole changelog.
    const other = await connect({ storeName: `t${storeCount}` });
    expect((await other.read({}, { limit: 100 })).relationships).toHaveLength(8);
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

  it('seedIfEmpty writes a large seed as the image of revision 1, which a watcher from 0 resyncs past', async () => {
    const warm = await connect();
    await warm.seedIfEmpty([parseRelationship('doc:w#viewer@user:w')]); // loads the scripts
    const store = await connect({ snapshotChunkSize: 1000 });
    const from0 = record(store, 0);
    const rels = Array.from({ length: 2_500 }, (_, i) =>
      parseRelationship(`doc:d${i}#viewer@user:u${i % 97}`),
    );
    await server.cli('CONFIG', 'RESETSTAT');
    expect(await store.seedIfEmpty([...rels, rels[0] as (typeof rels)[number]])).toBe(true);
    // begin and finish: two script calls; the seed itself goes as an image in parts of 1,000.
    expect(await scriptCalls(server)).toBe(2);
    const tag = `{gatehouse:t${storeCount}}`;
    const epoch = (await store.identity()).epoch;
    expect(await server.cli('HGET', `${tag}:image:relationships-1:${epoch}:1:meta`, 'chunks')).toBe('3');
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
    const dead = await connect();
    const name = `t${storeCount}`;
    const tag = `{gatehouse:${name}}`;
    // What a seeder that died after publishing its image leaves: an image of revision 1 while
    // the store is still at revision 0 with no changelog, and its lease.
    expect(await dead.seedIfEmpty([parseRelationship('doc:old#viewer@user:zz')])).toBe(true);
    await dead.close();
    await server.cli('DEL', `${tag}:changelog`, `${tag}:changelog:bytes`, `${tag}:versions`);
    await server.cli('SET', `${tag}:revision`, '0');
    await server.cli('SET', `${tag}:seed`, 'dead-seeder', 'PX', '1500');
    const store = await connect({ storeName: name });
    expect((await store.read({}, { limit: 10 })).relationships).toEqual([]);
    expect((await snapshotOf(store)).rels).toEqual([]);
    expect(await rejection(store.write([touch('doc:a#viewer@user:x')]))).toBeInstanceOf(UnavailableError);
    expect(await store.revision()).toBe(0);
    // A new seeder waits for the dead one's lease to lapse, replaces its image and seeds its own.
    const next = await connect({ storeName: name });
    expect(await next.seedIfEmpty([parseRelationship('doc:new#viewer@user:yy')])).toBe(true);
    expect((await snapshotOf(store)).rels).toEqual(['doc:new#viewer@user:yy']);
    expect(await server.cli('EXISTS', `${tag}:seed`)).toBe('0');
    expect((await store.write([touch('doc:a#viewer@user:x')])).revision).toBe(2);
  });

  it('a write planned before a seed is refused at commit and replanned on the seeded data', async () => {
    const seeder = await connect();
    const late = await connect({ storeName: `t${storeCount}` });
    await late.read({}, { limit: 1 }); // its mirror holds the empty store, revision 0
    const release = holdMirror(late);
    expect(await seeder.seedIfEmpty([parseRelationship('doc:a#viewer@user:x')])).toBe(true);
    // Planned on the empty copy: the create looks fine there. The seed stamped no object, but
    // it raised the floor below which plans are refused.
    const create = await rejectionAfterScripts(server, () =>
      late.write([{ operation: 'create', relationship: parseRelationship('doc:a#viewer@user:x') }]),
    );
    release();
    expect(await create.refused).toBeInstanceOf(AlreadyExistsError);
    expect(await late.revision()).toBe(1);
  });

  it('a replica waiting for the seed of another stops when it is closed, not when that lease ends', async () => {
    const store = await connect();
    const tag = `{gatehouse:t${storeCount}}`;
    await server.cli('SET', `${tag}:seed`, 'busy-seeder', 'PX', '60000');
    // Once it has asked for the lease and been told to wait:
    const waiting = await rejectionAfterScripts(server, () =>
      store.seedIfEmpty([parseRelationship('doc:a#viewer@user:x')]),
    );
    await store.close();
    expect(await waiting.refused).toBeInstanceOf(UnavailableError);
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
    // Issued in one event-loop turn, on objects no other of them touches: one batch.
    const written = await Promise.all(
      ['b', 'c', 'd', 'e'].map((id) => store.write([touch(`doc:${id}#owner@user:x`)])),
    );
    expect(await scriptCalls()).toBe(before + 1);
    expect(written.map((c) => c.revision)).toEqual([2, 3, 4, 5]);
    const log = record(store, 1);
    await vi.waitFor(() => expect(log.received.map((c) => c.revision)).toEqual([2, 3, 4, 5]), PATIENCE);
    log.stop();
  });

  it('a write planned on a mirror that has not applied a conflicting write is refused at commit, replanned, and fails as it should', async () => {
    const a = await connect();
    const b = await connect({ storeName: `t${storeCount}` });
    await a.write([touch('doc:a#owner@user:x')]);
    await b.read({}, { limit: 1 }); // b's mirror holds revision 1
    // b's mirror applies nothing until released: its next plan is made at revision 1.
    const release = holdMirror(b);
    await a.write([del('doc:a#owner@user:x')]);
    // Once its commit went to Redis and was refused (doc:a changed at revision 2), it waits for
    // the mirror to apply revision 2 before it plans again.
    const late = await rejectionAfterScripts(
      server,
      () =>
        b.write(
          [touch('doc:d#owner@user:x')],
          [{ operation: 'must_match', filter: { resourceType: 'doc', resourceId: 'a' } }],
        ),
      1,
    );
    expect(await a.revision()).toBe(2);
    release();
    expect(await late.refused).toBeInstanceOf(FailedPreconditionError);
    expect(await scriptCalls(server)).toBe(1);
    // The same write without the precondition commits once replanned.
    expect((await b.write([touch('doc:d#owner@user:x')])).revision).toBe(3);
  });

  it('a watcher delivers each revision once and in order, its own writes and another instance’s interleaved', async () => {
    const a = await connect();
    const b = await anotherInstance();
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
    const b = await anotherInstance();
    await b.write([touch('doc:before#viewer@user:x')]); // committed before the watch: read from the changelog
    const calls = (command: string): Promise<number> => commandCalls(server, command);
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

  it('a watcher of the writing instance is handed its commits as written, not decoded again from the feed', async () => {
    // The feed often brings a commit before its reply does; the watcher waits for the reply.
    const store = await connect({ watchBlockMs: 600_000, ownReplyWaitMs: 600_000 });
    await store.write([touch('doc:first#viewer@user:x')]);
    const log = record(store, 0);
    await vi.waitFor(() => expect(log.received).toHaveLength(1), PATIENCE);
    // Replies wait unread on the command connection: the feed brings each commit first.
    const commands = (store as unknown as { client: { stream: NodeJS.ReadableStream } }).client.stream;
    await server.cli('CONFIG', 'RESETSTAT');
    commands.pause();
    const writing = Promise.all([1, 2, 3].map((i) => store.write([touch(`doc:c${i}#viewer@user:x`)])));
    await vi.waitFor(async () => expect(await scriptCalls(server)).toBe(1), PATIENCE);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the feed's messages arrive meanwhile
    expect(log.received).toHaveLength(1);
    commands.resume();
    const written = await writing;
    await vi.waitFor(() => expect(log.received).toHaveLength(4), PATIENCE);
    for (const [i, changeSet] of written.entries()) expect(log.received[i + 1]).toBe(changeSet);
    log.stop();
    expect(await log.ended).toBeUndefined();
  });

  it('a feed message naming the watching instance whose reply went elsewhere is delivered from the feed', async () => {
    // No idle check while the test runs: only the feed can bring the change set.
    const a = await connect({ watchBlockMs: 600_000 });
    const b = await anotherInstance();
    // b commits under a's name: a's watcher finds itself named as the writer, and no reply comes to a.
    (b as unknown as { writerId: string }).writerId = (a as unknown as { writerId: string }).writerId;
    await a.write([touch('doc:first#viewer@user:x')]);
    const log = record(a, 0);
    await vi.waitFor(() => expect(log.received).toHaveLength(1), PATIENCE);
    await b.read({}, { limit: 1 }); // b's mirror has caught up (reading the changelog to do so)
    const xreads = await commandCalls(server, 'xread');
    const elsewhere = await b.write([touch('doc:elsewhere#viewer@user:x')]);
    await vi.waitFor(() => expect(log.received).toHaveLength(2), PATIENCE);
    expect(log.received[1]?.revision).toBe(elsewhere.revision);
    expect(formatRelationship(log.received[1]!.changes[0]!.relationship)).toBe('doc:elsewhere#viewer@user:x');
    expect(await commandCalls(server, 'xread')).toBe(xreads);
    // a's mirror took it the same way: a reads it.
    expect(
      (await a.read({ resourceType: 'doc', resourceId: 'elsewhere' }, { limit: 5 })).relationships,
    ).toHaveLength(1);
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
    const store = await connect({ changelogMaxBytes: 200, imageEveryChanges: 1 });
    const name = `t${storeCount}`;
    const key = `{gatehouse:${name}}:changelog`;
    const admin = new Redis(server.port, '127.0.0.1');
    /** Each entry's revision and change-line bytes, oldest first. */
    const entries = async (): Promise<{ revision: number; bytes: number }[]> =>
      (await admin.xrange(key, '-', '+')).map(([id, fields]) => ({
        revision: Number(id.split('-')[0]),
        bytes: (fields[fields.indexOf('c') + 1] ?? '').length,
      }));
    try {
      // 11 writes of a 25-byte line each (`+doc:dN#viewer@user:xxxxx`): 275 bytes in all, 8 fit.
      for (let i = 0; i < 10; i++)
        await writeImaged(server, store, name, [touch(`doc:d${i}#viewer@user:xxxxx`)]);
      await imagesReach(server, name, 9);
      await writeImaged(server, store, name, [touch('doc:dx#viewer@user:xxxxx')]);
      let kept = await entries();
      expect(kept.map((e) => e.revision)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
      expect(kept.reduce((n, e) => n + e.bytes, 0)).toBeLessThanOrEqual(200);
      // A watcher from before the oldest kept entry is told to resync, naming what is left.
      const log = record(store, 1);
      expect(await log.ended).toMatchObject({ name: 'ChangelogTruncatedError', oldestWatchable: 3 });
      // One change set larger than the bound stays, with what follows it (the oldest image kept
      // is the one just before it, as far as the changelog may be trimmed)...
      const big = Array.from({ length: 20 }, (_, i) => touch(`doc:big${i}#viewer@user:xxxxx`));
      const bigSet = await writeImaged(server, store, name, big);
      await imagesReach(server, name, bigSet.revision - 1);
      await store.write([touch('doc:dy#viewer@user:xxxxx')]);
      kept = await entries();
      expect(kept.map((e) => e.revision)).toEqual([bigSet.revision, bigSet.revision + 1]);
      expect(kept[0]!.bytes).toBeGreaterThan(200);
      // ...and goes at the next write once the images are past it.
      await imagesReach(server, name, bigSet.revision);
      await store.write([touch('doc:dz#viewer@user:xxxxx')]);
      expect((await entries()).map((e) => e.revision)).toEqual([bigSet.revision + 1, bigSet.revision + 2]);
    } finally {
      admin.disconnect();
    }
  });

  it('never trims by bytes past entries an older build wrote (they carry no running total)', async () => {
    const store = await connect({ changelogRetention: 5, changelogMaxBytes: 50, imageEveryChanges: 1 });
    const name = `t${storeCount}`;
    const tag = `{gatehouse:${name}}`;
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
      for (let i = 2; i < 5; i++)
        await writeImaged(server, store, name, [touch(`doc:d${i}#viewer@user:xxxxx`)]);
      await imagesReach(server, name, 7);
      await store.write([touch('doc:d5#viewer@user:xxxxx')]);
      expect(await revisions()).toEqual([8, 9]);
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
