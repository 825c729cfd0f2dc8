// RedisStore keeps a relationship's condition and expiry (SpiceDB's `[cond:{…}][expiration:…]`
// attributes) through write, read, watch, snapshot, seed and deleteByFilter; a touch of the same
// identity replaces them, and deletes name the attributes they removed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatRelationshipWithAttributes, parseRelationship } from '../../server/src/model/relationship.js';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import type { ChangeSet, RelationshipUpdate, Store } from '../../server/src/store/store.js';
import { RedisServer } from '../support/redis-server.js';

const touch = (s: string): RelationshipUpdate => ({ operation: 'touch', relationship: parseRelationship(s) });
const create = (s: string): RelationshipUpdate => ({
  operation: 'create',
  relationship: parseRelationship(s),
});
const del = (s: string): RelationshipUpdate => ({ operation: 'delete', relationship: parseRelationship(s) });
const show = (c: ChangeSet): string[] =>
  c.changes.map(
    (x) => `${x.operation === 'insert' ? '+' : '-'}${formatRelationshipWithAttributes(x.relationship)}`,
  );

const CONDITIONAL = 'doc:a#viewer@user:x[on_weekdays:{"tz":"UTC","n":[1,2]}]';
const EXPIRING = 'doc:b#viewer@user:y[expiration:2026-12-31T00:00:00.000Z]';
const BOTH = 'doc:c#viewer@group:g#member[ip_in:{"cidr":"10.0.0.0/8"}][expiration:2027-01-01T12:00:00.500Z]';
const PLAIN = 'doc:d#viewer@user:z';

async function everything(store: Store): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.read({ resourceType: 'doc' }, { limit: 2, cursor });
    out.push(...page.relationships.map(formatRelationshipWithAttributes));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

async function snapshotted(store: Store): Promise<string[]> {
  const snap = await store.snapshot();
  const out: string[] = [];
  for await (const chunk of snap.chunks()) out.push(...chunk.map(formatRelationshipWithAttributes));
  return out;
}

describe('RedisStore: conditions and expiry', () => {
  let server: RedisServer;
  const open: RedisStore[] = [];
  let count = 0;
  const connect = async (chunk = 1000): Promise<RedisStore> => {
    const store = await RedisStore.connect({
      url: server.url,
      storeName: `a${++count}`,
      snapshotChunkSize: chunk,
      watchBlockMs: 100,
    });
    open.push(store);
    return store;
  };

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await server.stop();
  });

  it('keeps them through write, read (by resource and by subject), snapshot and watch', async () => {
    const store = await connect(2);
    const written = await store.write([touch(CONDITIONAL), create(EXPIRING), touch(BOTH), touch(PLAIN)]);
    expect(show(written)).toEqual([`+${CONDITIONAL}`, `+${EXPIRING}`, `+${BOTH}`, `+${PLAIN}`]);
    expect(written.changes[0]?.relationship.condition).toEqual({
      name: 'on_weekdays',
      context: { tz: 'UTC', n: [1, 2] },
    });
    expect(written.changes[1]?.relationship.expiresAt).toBe(Date.parse('2026-12-31T00:00:00.000Z'));
    const all = [CONDITIONAL, EXPIRING, BOTH, PLAIN];
    expect(await everything(store)).toEqual(all);
    const bySubject = await store.read({ subjectType: 'group', subjectId: 'g' }, { limit: 10 });
    expect(bySubject.relationships.map(formatRelationshipWithAttributes)).toEqual([BOTH]);
    expect(await snapshotted(store)).toEqual(all);
    const watched: ChangeSet[] = [];
    for await (const c of store.watch(0)) {
      watched.push(c);
      break;
    }
    expect(watched.map(show)).toEqual([show(written)]);
  });

  it('a touch replaces them (a delete and an insert), unchanged ones are not reported, and a delete names what it removed', async () => {
    const store = await connect();
    await store.write([touch(CONDITIONAL), touch(PLAIN)]);
    const replaced = await store.write([
      touch('doc:a#viewer@user:x[expiration:2030-01-01T00:00:00.000Z]'),
      touch(PLAIN),
      touch(`${PLAIN}[other]`),
    ]);
    expect(show(replaced)).toEqual([
      `-${CONDITIONAL}`,
      '+doc:a#viewer@user:x[expiration:2030-01-01T00:00:00.000Z]',
      `-${PLAIN}`,
      `+${PLAIN}[other]`,
    ]);
    // A touch without attributes clears them.
    const cleared = await store.write([touch('doc:a#viewer@user:x')]);
    expect(show(cleared)).toEqual([
      '-doc:a#viewer@user:x[expiration:2030-01-01T00:00:00.000Z]',
      '+doc:a#viewer@user:x',
    ]);
    expect(show(await store.write([touch('doc:a#viewer@user:x')]))).toEqual([]);
    const deleted = await store.write([del(`${PLAIN}[ignored_on_delete]`)]);
    expect(show(deleted)).toEqual([`-${PLAIN}[other]`]);
    expect(await everything(store)).toEqual(['doc:a#viewer@user:x']);
    // The changelog says the same to a watcher.
    const watched: string[] = [];
    for await (const c of store.watch(1)) {
      watched.push(...show(c));
      if (c.revision === 5) break;
    }
    expect(watched).toEqual([...show(replaced), ...show(cleared), ...show(deleted)]);
  });

  it('a snapshot read while attributes change stays exact at its revision', async () => {
    const store = await connect(2);
    await store.write([touch(CONDITIONAL), touch(EXPIRING), touch(BOTH), touch(PLAIN)]);
    const snap = await store.snapshot();
    const chunks = snap.chunks()[Symbol.asyncIterator]();
    const first = await chunks.next();
    await store.write([touch('doc:c#viewer@group:g#member'), del(PLAIN), touch('doc:e#viewer@user:q[late]')]);
    const rest: string[] = [];
    for (;;) {
      const next = await chunks.next();
      if (next.done === true) break;
      rest.push(...next.value.map(formatRelationshipWithAttributes));
    }
    expect([...(first.value ?? []).map(formatRelationshipWithAttributes), ...rest]).toEqual([
      CONDITIONAL,
      EXPIRING,
      BOTH,
      PLAIN,
    ]);
  });

  it('deleteByFilter reports the attributes it removed and seedIfEmpty keeps them', async () => {
    const store = await connect();
    expect(await store.seedIfEmpty([CONDITIONAL, BOTH, PLAIN].map((s) => parseRelationship(s)))).toBe(true);
    expect(await everything(store)).toEqual([CONDITIONAL, BOTH, PLAIN]);
    const removed = await store.deleteByFilter({ resourceType: 'doc', subjectType: 'group' });
    expect(show(removed)).toEqual([`-${BOTH}`]);
    await store.deleteByFilter({ resourceType: 'doc' });
    // Nothing is left behind: the attributes hash is gone with the relationships.
    expect(await server.cli('EXISTS', `{gatehouse:a${count}}:attrs`)).toBe('0');
  });
});
