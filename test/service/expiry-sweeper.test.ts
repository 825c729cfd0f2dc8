// The expiry sweeper removes expired relationships as ordinary deletes, judged by an injected
// clock: bounded per sweep, resuming where it stopped, and never deleting one renewed between
// its read and its delete.
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { formatRelationshipWithAttributes, parseRelationship } from '../../server/src/model/relationship.js';
import {
  ExpirySweeper,
  registerExpirySweeperMetrics,
  type SweptStore,
} from '../../server/src/service/expiry-sweeper.js';
import type { ChangeSet } from '../../server/src/store/index.js';
import { MemoryStore } from '../../server/src/store/index.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const at = (ms: number): string => new Date(ms).toISOString();
const touch = (s: string) => ({ operation: 'touch' as const, relationship: parseRelationship(s) });

async function stored(store: MemoryStore): Promise<string[]> {
  return (await store.read({}, { limit: 1000 })).relationships.map(formatRelationshipWithAttributes).sort();
}

const open: ExpirySweeper[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.stop()));
});

function sweeper(
  store: SweptStore,
  now: () => number,
  batchSize?: number,
  scanLimit?: number,
): ExpirySweeper {
  const s = new ExpirySweeper({ store, now, intervalMs: 0, batchSize, scanLimit });
  open.push(s);
  return s;
}

describe('ExpirySweeper', () => {
  it('removes exactly the relationships expired by its clock, as deletes a watcher sees', async () => {
    const store = new MemoryStore();
    await store.write([
      touch(`doc:a#viewer@user:x[expiration:${at(T0 + 1000)}]`),
      touch(`doc:b#viewer@user:x[expiration:${at(T0 + 2000)}]`),
      touch('doc:c#viewer@user:x'),
      touch(`doc:d#viewer@user:x[cond][expiration:${at(T0 + 1000)}]`),
    ]);
    const seen: ChangeSet[] = [];
    store.subscribe(await store.revision(), (c) => seen.push(c));
    let now = T0 + 999;
    const s = sweeper(store, () => now);
    expect(await s.sweep()).toBe(0);
    now = T0 + 1000; // expiry is inclusive: at its instant the relationship no longer grants
    expect(await s.sweep()).toBe(2);
    expect(await stored(store)).toEqual([
      `doc:b#viewer@user:x[expiration:${at(T0 + 2000)}]`,
      'doc:c#viewer@user:x',
    ]);
    expect(seen.flatMap((c) => c.changes.map((x) => `${x.operation} ${x.relationship.resource.id}`))).toEqual(
      ['delete a', 'delete d'],
    );
    now = T0 + 5000;
    expect(await s.sweep()).toBe(1);
    expect(await stored(store)).toEqual(['doc:c#viewer@user:x']);
    expect(s.removed).toBe(3);
  });

  it('deletes at most batchSize per sweep and reads at most scanLimit, resuming where it stopped', async () => {
    const store = new MemoryStore();
    const ids = Array.from({ length: 12 }, (_, i) => `d${String(i).padStart(2, '0')}`);
    // Every third one expired.
    await store.write(
      ids.map((id, i) => touch(`doc:${id}#viewer@user:x[expiration:${at(i % 3 === 0 ? T0 : T0 + 10_000)}]`)),
    );
    const s = sweeper(store, () => T0, 2, 4);
    const removed: number[] = [];
    for (let i = 0; i < 5; i++) removed.push(await s.sweep());
    // 4 rows per sweep at most: d00..d03 hold 2 expired, d04..d07 one, d08..d11 one.
    expect(removed.reduce((a, b) => a + b, 0)).toBe(4);
    expect(Math.max(...removed)).toBeLessThanOrEqual(2);
    expect((await stored(store)).length).toBe(8);
  });

  it('never deletes a relationship renewed between its read and its delete', async () => {
    const inner = new MemoryStore();
    const expiring = `doc:a#viewer@user:x[expiration:${at(T0)}]`;
    const renewed = `doc:a#viewer@user:x[expiration:${at(T0 + 60_000)}]`;
    await inner.write([touch(expiring)]);
    let renewOnce = true;
    // A writer renews the relationship right after the sweeper's first read.
    const racing: SweptStore = {
      read: async (filter, page) => {
        const result = await inner.read(filter, page);
        if (renewOnce) {
          renewOnce = false;
          await inner.write([touch(renewed)]);
        }
        return result;
      },
      write: (updates, preconditions, options) => inner.write(updates, preconditions, options),
    };
    const s = sweeper(racing, () => T0 + 1);
    expect(await s.sweep()).toBe(0);
    expect(await stored(inner)).toEqual([renewed]);
    expect(s.removed).toBe(0);
  });

  it('reports what it removed as gatehouse_expired_relationships_removed_total', async () => {
    const store = new MemoryStore();
    await store.write([touch(`doc:a#viewer@user:x[expiration:${at(T0)}]`)]);
    const s = sweeper(store, () => T0);
    const registry = new Registry();
    registerExpirySweeperMetrics(registry, s);
    await s.sweep();
    expect(await registry.metrics()).toContain('gatehouse_expired_relationships_removed_total 1');
  });
});
