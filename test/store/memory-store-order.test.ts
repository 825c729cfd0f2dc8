// The memory store keeps relationships as interned numbers but must page through them in the
// order of their canonical strings, as it always has: cursors carry a key and resume after it.
// Names here are prefixes of one another so separators decide the order (`a1:` < `a:`).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRelationship, parseRelationship } from '../../server/src/model/relationship.js';
import { deleteObject } from '../../server/src/service/object-deletion.js';
import type { ChangeSet } from '../../server/src/store/index.js';
import { collectSnapshot, MemoryStore } from '../../server/src/store/index.js';
import { readAll } from './store-contract.js';

const TYPES = ['a', 'a1', 'a/b', 'ab'];
const IDS = ['x', 'x1', 'x.', 'X'];
const RELATIONS = ['r', 'r1', 'rr'];

const keyArb = fc
  .tuple(
    fc.constantFrom(...TYPES),
    fc.constantFrom(...IDS),
    fc.constantFrom(...RELATIONS),
    fc.constantFrom(...TYPES),
    fc.constantFrom(...IDS, '*'),
    fc.constantFrom('', ...RELATIONS),
  )
  .map(([t, i, r, st, si, sr]) => `${t}:${i}#${r}@${st}:${si}${sr === '' || si === '*' ? '' : `#${sr}`}`);

describe('MemoryStore order', () => {
  it('pages by resource type, subject and everything in canonical string order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(keyArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom(...TYPES),
        fc.constantFrom(...IDS),
        async (keys, limit, type, id) => {
          const store = new MemoryStore();
          await store.write(keys.map((k) => ({ operation: 'touch', relationship: parseRelationship(k) })));
          const sorted = [...keys].sort();
          expect(await readAll(store, {}, limit)).toEqual(sorted);
          expect(await readAll(store, { resourceType: type }, limit)).toEqual(
            sorted.filter((k) => k.startsWith(`${type}:`)),
          );
          const subject = `@${type}:${id}`;
          expect(await readAll(store, { subjectType: type, subjectId: id }, limit)).toEqual(
            sorted.filter(
              (k) => k.includes(subject) && /^$|^#/.test(k.slice(k.indexOf(subject) + subject.length)),
            ),
          );
          // A snapshot is the set, in no promised order (row order: see MemoryStore.snapshot).
          expect((await collectSnapshot(await store.snapshot())).map(formatRelationship).sort()).toEqual(
            sorted,
          );
          const startup = MemoryStore.withRelationships(keys.map((k) => parseRelationship(k)));
          expect(await readAll(startup, {}, limit)).toEqual(sorted);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stays ordered and consistent after deleting thousands of relationships in one revision', async () => {
    const keys: string[] = [];
    for (let d = 0; d < 3000; d++) {
      keys.push(`doc:d${d}#viewer@user:u${d % 40}`, `doc:d${d}#owner@group:g${d % 9}#member`);
    }
    const store = new MemoryStore();
    await store.write(keys.map((k) => ({ operation: 'touch', relationship: parseRelationship(k) })));
    const removed = await store.deleteByFilter({ resourceType: 'doc', relation: 'viewer' });
    expect(removed.changes).toHaveLength(3000);
    const left = keys.filter((k) => k.includes('#owner@')).sort();
    expect(await readAll(store, {}, 997)).toEqual(left);
    expect(await readAll(store, { subjectType: 'group', subjectId: 'g4' }, 50)).toEqual(
      left.filter((k) => k.endsWith('@group:g4#member')),
    );
    await store.write([{ operation: 'create', relationship: parseRelationship('doc:d5#viewer@user:u5') }]);
    expect(await readAll(store, { resourceType: 'doc', resourceId: 'd5' }, 10)).toEqual([
      'doc:d5#owner@group:g5#member',
      'doc:d5#viewer@user:u5',
    ]);
    expect(store.size).toBe(3001);
  });

  it('replays deleted relationships and startup data from the changelog after their rows are gone', async () => {
    const store = MemoryStore.withRelationships([parseRelationship('doc:a#viewer@user:x')]);
    await store.write([
      { operation: 'touch', relationship: parseRelationship('doc:b#viewer@group:g#member') },
    ]);
    await deleteObject(store, { type: 'doc', id: 'a' }, []);
    await store.deleteByFilter({ resourceType: 'doc' });
    const seen: ChangeSet[] = [];
    store.subscribe(0, (c) => seen.push(c));
    expect(
      seen.map((c) => c.changes.map((ch) => `${ch.operation} ${formatRelationship(ch.relationship)}`)),
    ).toEqual([
      ['insert doc:a#viewer@user:x'],
      ['insert doc:b#viewer@group:g#member'],
      ['delete doc:a#viewer@user:x'],
      ['delete doc:b#viewer@group:g#member'],
    ]);
    expect(Object.isFrozen(seen[0]?.changes[0]?.relationship)).toBe(true);
    expect(store.size).toBe(0);
  });
});
