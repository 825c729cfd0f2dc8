// The memory store and the graph built from it share one numbering of ids (ObjectIds): the graph
// adopts the store's interners, is built from its rows as numbers, and keeps answering exactly as
// a graph of its own would while the store numbers new ids before the graph applies them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import {
  formatRelationshipWithAttributes,
  parseCheckTuple,
  parseRelationship,
} from '../../server/src/model/relationship.js';
import type { ChangeSet } from '../../server/src/store/index.js';
import { collectSnapshot, MemoryStore } from '../../server/src/store/index.js';
import { crmSchema } from '../engine/fixtures.js';

const sorted = (g: GraphIndex): string[] =>
  [...g.relationships()].map(formatRelationshipWithAttributes).sort();

const relationshipArb = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
    .map(([d, u]) => `doc:d${d}#owner@user:u${u}`),
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 }))
    .map(([d, g]) => `doc:d${d}#viewer@group:g${g}#member`),
  fc.integer({ min: 0, max: 3 }).map((d) => `doc:d${d}#viewer@user:*`),
  fc
    .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 4 }))
    .map(([g, u]) => `group:g${g}#member@user:u${u}`),
  fc
    .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
    .map(([g, h]) => `group:g${g}#member@group:g${h}#member`),
);

describe('the numbering the memory store shares with its graph', () => {
  it('builds from the rows as numbers the same graph as from the snapshot, on the same interners', async () => {
    const stored = [
      'doc:d1#owner@user:ann',
      'doc:d1#viewer@user:*',
      'doc:d2#viewer@group:eng#member',
      'group:eng#member@user:bob',
    ];
    const store = MemoryStore.withRelationships(stored.map((s) => parseRelationship(s)));
    const shared = GraphIndex.fromNumbered(crmSchema, store.objectIds, (v) => store.forEachNumbered(v));
    const own = GraphIndex.build(crmSchema, await collectSnapshot(await store.snapshot()), 1);
    expect(sorted(shared)).toEqual(sorted(own));
    expect(shared.revision).toBe(1);
    expect(shared.interner('user')).toBe(store.objectIds.interner('user'));
    // The wildcard is not an object: it takes no number.
    expect(store.objectIds.interner('user').lookup('*')).toBe(-1);
  });

  it('hands a relationship with a condition or expiry over whole', () => {
    const store = MemoryStore.withRelationships([
      parseRelationship('doc:d1#owner@user:ann[expiration:2030-01-01T00:00:00.000Z]'),
    ]);
    const seen: string[] = [];
    store.forEachNumbered({
      numbered: () => seen.push('numbered'),
      relationship: (r) => seen.push(formatRelationshipWithAttributes(r)),
    });
    expect(seen).toEqual(['doc:d1#owner@user:ann[expiration:2030-01-01T00:00:00.000Z]']);
  });

  it('answers every check as a graph of its own does, through writes that number new ids first', () => {
    fc.assert(
      fc.property(
        fc.array(relationshipArb, { maxLength: 12 }),
        fc.array(fc.tuple(fc.boolean(), relationshipArb), { maxLength: 12 }),
        (initial, writes) => {
          const store = MemoryStore.withRelationships(initial.map((s) => parseRelationship(s)));
          const graph = GraphIndex.fromNumbered(crmSchema, store.objectIds, (v) => store.forEachNumbered(v));
          const pending: ChangeSet[] = [];
          store.subscribe(1, (c) => pending.push(c));
          const present = new Set(initial);
          for (const [keep, r] of writes) {
            void store.write([{ operation: keep ? 'touch' : 'delete', relationship: parseRelationship(r) }]);
            if (keep) present.add(r);
            else present.delete(r);
          }
          // The store has numbered every new id before the graph sees a change: apply them now.
          for (const c of pending) graph.apply(c);
          const own = GraphIndex.build(
            crmSchema,
            [...present].map((s) => parseRelationship(s)),
            1,
          );
          expect(sorted(graph)).toEqual(sorted(own));
          const shared = createEngine(crmSchema, graph);
          const alone = createEngine(crmSchema, own);
          for (let d = 0; d < 4; d++) {
            for (let u = 0; u < 6; u++) {
              const tuple = parseCheckTuple(`doc:d${d}#view@user:u${u}`);
              expect(shared.check(tuple)).toBe(alone.check(tuple));
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
