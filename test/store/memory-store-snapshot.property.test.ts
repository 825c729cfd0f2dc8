// Property: a MemoryStore snapshot read while writes land delivers exactly the set at its
// revision, whatever the writes remove, add or re-add (rows freed and reused meanwhile), and
// costs an object only for the rows those writes removed (server/src/store/snapshot-rows.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChangelogTruncatedError } from '../../server/src/errors.js';
import {
  formatRelationship,
  parseRelationship,
  type Relationship,
} from '../../server/src/model/relationship.js';
import { MemoryStore, type RelationshipUpdate } from '../../server/src/store/index.js';
import { RelationshipIndex } from '../../server/src/store/relationship-index.js';
import { SnapshotRows } from '../../server/src/store/snapshot-rows.js';

const UNIVERSE = ['doc:a', 'doc:b', 'doc:c', 'folder:f'].flatMap((resource) =>
  ['viewer', 'owner'].flatMap((relation) =>
    ['user:x', 'user:y', 'user:*', 'group:g#member'].map((subject) => `${resource}#${relation}@${subject}`),
  ),
);

const updateArb: fc.Arbitrary<RelationshipUpdate> = fc
  .tuple(
    fc.constantFrom('touch' as const, 'delete' as const),
    fc.constantFrom(...UNIVERSE),
    fc.constantFrom(undefined, 4_102_444_800_000),
  )
  .map(([operation, text, expiresAt]) => ({
    operation,
    relationship: { ...parseRelationship(text), ...(expiresAt ? { expiresAt } : {}) },
  }));

/** The set as strings with their expiry, sorted: what a snapshot must deliver. */
async function contents(store: MemoryStore): Promise<string[]> {
  const page = await store.read({}, { limit: 1000 });
  return page.relationships.map(withExpiry).sort();
}

function withExpiry(r: { expiresAt?: number }): string {
  return `${formatRelationship(r as never)}${r.expiresAt === undefined ? '' : `@${r.expiresAt}`}`;
}

describe('MemoryStore snapshot under writes', () => {
  it('delivers the set at its revision while writes between its chunks remove and re-add rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(updateArb, { maxLength: 30 }),
        fc.array(fc.array(updateArb, { minLength: 1, maxLength: 6 }), { maxLength: 12 }),
        async (initial, later) => {
          const store = new MemoryStore({ snapshotChunkSize: 2 });
          await store.write(initial.filter((u) => u.operation === 'touch'));
          const expected = await contents(store);
          const snapshot = await store.snapshot();
          const seen: string[] = [];
          let next = 0;
          for await (const chunk of snapshot.chunks()) {
            seen.push(...chunk.map(withExpiry));
            // One write between every two chunks, and the rest after the first chunk.
            if (next < later.length) await store.write(later[next++] as RelationshipUpdate[]);
          }
          while (next < later.length) await store.write(later[next++] as RelationshipUpdate[]);
          expect(seen.sort()).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('keeps its set through writes while read, and ends once read through and written after', async () => {
    const store = new MemoryStore();
    const all = Array.from({ length: 1000 }, (_, i) => `doc:d${i}#viewer@user:x`);
    await store.write(all.map((text) => ({ operation: 'touch', relationship: parseRelationship(text) })));
    const snapshot = await store.snapshot();
    const iterator = snapshot.chunks()[Symbol.asyncIterator]();
    await iterator.next(); // reading: the snapshot keeps what the next writes remove
    await store.write([
      { operation: 'delete', relationship: parseRelationship('doc:d1#viewer@user:x') },
      { operation: 'delete', relationship: parseRelationship('doc:d2#viewer@user:x') },
      { operation: 'touch', relationship: parseRelationship('doc:new#viewer@user:y') },
    ]);
    const open = (store as unknown as { openSnapshots: Set<unknown> }).openSnapshots;
    expect(open.size).toBe(1);
    let rest = 0;
    for (let step = await iterator.next(); !step.done; step = await iterator.next())
      rest += step.value.length;
    expect(rest).toBe(0); // one chunk of 1,000 held it all
    const again: string[] = [];
    for await (const chunk of snapshot.chunks()) again.push(...chunk.map(formatRelationship));
    expect(again.sort()).toEqual([...all].sort());
    // Read through and idle: the next write ends it rather than keep copying.
    await store.write([{ operation: 'delete', relationship: parseRelationship('doc:d3#viewer@user:x') }]);
    expect(open.size).toBe(0);
    await expect(async () => {
      for await (const _ of snapshot.chunks()) {
        // unreachable
      }
    }).rejects.toBeInstanceOf(ChangelogTruncatedError);
  });
});

describe('MemoryStore snapshot lifetime', () => {
  const touchText = (text: string): RelationshipUpdate => ({
    operation: 'touch',
    relationship: parseRelationship(text),
  });
  const open = (store: MemoryStore): Set<unknown> =>
    (store as unknown as { openSnapshots: Set<unknown> }).openSnapshots;

  it('ends at the next write once an iteration was abandoned, so a failed reader leaks nothing', async () => {
    const store = new MemoryStore({ snapshotChunkSize: 1 });
    await store.write([touchText('doc:a#viewer@user:x'), touchText('doc:b#viewer@user:x')]);
    const snapshot = await store.snapshot();
    for await (const _ of snapshot.chunks()) break; // a reader that gave up after one chunk
    expect(open(store).size).toBe(1);
    await store.write([touchText('doc:c#viewer@user:x')]);
    expect(open(store).size).toBe(0);
    await expect(collectAll(snapshot)).rejects.toThrow(/no longer readable/);
  });

  it('keeps an unread snapshot readable through writes until it is released', async () => {
    const store = new MemoryStore();
    await store.write([touchText('doc:a#viewer@user:x')]);
    const snapshot = await store.snapshot();
    await store.write([{ operation: 'delete', relationship: parseRelationship('doc:a#viewer@user:x') }]);
    await store.write([touchText('doc:b#viewer@user:x')]);
    expect((await collectAll(snapshot)).map(formatRelationship)).toEqual(['doc:a#viewer@user:x']);
    const unread = await store.snapshot();
    unread.release();
    expect(open(store).size).toBe(1); // the first one, read through: it ends at the next write
    await store.write([touchText('doc:c#viewer@user:x')]);
    expect(open(store).size).toBe(0);
    await expect(collectAll(unread)).rejects.toThrow(/was released/);
  });
});

async function collectAll(snapshot: {
  chunks(): AsyncIterable<readonly Relationship[]>;
}): Promise<Relationship[]> {
  const out: Relationship[] = [];
  for await (const chunk of snapshot.chunks()) out.push(...chunk);
  return out;
}

describe('SnapshotRows', () => {
  it('copies out a row of the snapshot once, before its removal, and nothing else', () => {
    const { index } = RelationshipIndex.build(
      ['doc:a#viewer@user:x', 'doc:b#viewer@user:x', 'doc:c#viewer@user:x'].map((text) =>
        parseRelationship(text),
      ),
    );
    const rows = index.rows.liveRows();
    const kept = new SnapshotRows(index, rows);
    const first = rows[0] as number;
    const before = kept.relationshipAt(first);
    kept.rowRemoving(first);
    index.remove(first);
    kept.rowRemoving(first); // removed again after reuse: the first copy stands
    kept.rowRemoving(10_000); // a row the snapshot never had
    expect(kept.copiedRows).toBe(1);
    expect(kept.relationshipAt(first)).toEqual(before);
    const reused = index.insert(parseRelationship('doc:z#viewer@user:y'));
    expect(reused).toBe(first);
    expect(formatRelationship(kept.relationshipAt(first))).toBe(formatRelationship(before));
  });
});
