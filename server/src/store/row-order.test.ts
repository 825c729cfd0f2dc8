// The radix ordering gives exactly the comparison sort's key order (prefixes and separators
// included), the subject grouping keeps key order within each subject, and the bulk load's
// grouping by numbers puts equal rows and each adjacency list's rows together.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRelationship, type Relationship, relationshipKey } from '../model/relationship.js';
import { RelationshipIndex } from './relationship-index.js';
import {
  FIELDS,
  RELATION,
  RESOURCE_ID,
  RESOURCE_TYPE,
  RelationshipTable,
  SUBJECT_ID,
  SUBJECT_RELATION,
  SUBJECT_TYPE,
} from './relationship-table.js';
import { groupOrder, keyOrder, radixKeyOrder, subjectOrder } from './row-order.js';

// Names where many are prefixes of others, with characters on both sides of each separator.
const TYPES = ['a', 'a1', 'a/b', 'a_', 'ab'];
const IDS = ['x', 'x1', 'x.', 'x-', 'X', '*'];
const RELATIONS = ['r', 'r1', 'r_', 'rr'];

const relationshipArb: fc.Arbitrary<Relationship> = fc
  .record({
    rt: fc.constantFrom(...TYPES),
    ri: fc.constantFrom(...IDS.filter((id) => id !== '*')),
    rel: fc.constantFrom(...RELATIONS),
    st: fc.constantFrom(...TYPES),
    si: fc.constantFrom(...IDS),
    sr: fc.option(fc.constantFrom(...RELATIONS), { nil: undefined }),
  })
  .map((f) =>
    parseRelationship(
      `${f.rt}:${f.ri}#${f.rel}@${f.st}:${f.si}${f.sr === undefined || f.si === '*' ? '' : `#${f.sr}`}`,
    ),
  );

describe('keyOrder / subjectOrder', () => {
  it('orders rows as the comparison sort does, and groups by subject in key order', () => {
    fc.assert(
      fc.property(fc.array(relationshipArb, { maxLength: 80 }), (rels) => {
        const table = new RelationshipTable();
        const rows: number[] = [];
        for (const r of rels) {
          const row = table.insert(r);
          if (row >= 0) rows.push(row);
        }
        const expected = [...rows].sort((a, b) => table.compare(a, b));
        const ordered = keyOrder(table, Int32Array.from(rows));
        expect(Array.from(ordered)).toEqual(expected);
        // Valid names never hold a separator: the radix sort decides alone, without the fallback.
        expect(Array.from(radixKeyOrder(table, Int32Array.from(rows)) ?? [])).toEqual(expected);
        const bySubject = Array.from(subjectOrder(table, ordered));
        const expectedBySubject = [...expected].sort(
          (a, b) =>
            table.field(a, SUBJECT_TYPE) - table.field(b, SUBJECT_TYPE) ||
            table.field(a, SUBJECT_ID) - table.field(b, SUBJECT_ID),
        );
        expect(bySubject).toEqual(expectedBySubject);
      }),
      { numRuns: 300 },
    );
  });
});

/** The row's numbers other than its ids: which of the graph's edge sets it belongs to. */
function edgeSet(table: RelationshipTable, row: number): string {
  return [RESOURCE_TYPE, RELATION, SUBJECT_TYPE, SUBJECT_RELATION].map((f) => table.field(row, f)).join(',');
}

describe('groupOrder', () => {
  it('is a stable order in which equal rows, edge sets and each resource of an edge set are runs', () => {
    fc.assert(
      fc.property(fc.array(relationshipArb, { maxLength: 80 }), (rels) => {
        const table = new RelationshipTable();
        const rows = rels.map((r) => table.append(r));
        const grouped = Array.from(groupOrder(table, Int32Array.from(rows)));
        expect([...grouped].sort((a, b) => a - b)).toEqual(rows);
        const whole = (row: number) =>
          Array.from({ length: FIELDS }, (_, f) => table.field(row, f)).join(',');
        const runs = (key: (row: number) => string): void => {
          const closed = new Set<string>();
          for (let i = 0; i < grouped.length; i++) {
            const k = key(grouped[i]!);
            expect(closed.has(k)).toBe(false);
            if (i + 1 === grouped.length || key(grouped[i + 1]!) !== k) closed.add(k);
          }
        };
        runs(whole);
        runs((row) => edgeSet(table, row));
        runs((row) => `${edgeSet(table, row)}|${table.field(row, RESOURCE_ID)}`);
        // Equal rows keep their input order: the bulk load keeps the last one written.
        for (let i = 1; i < grouped.length; i++) {
          if (whole(grouped[i - 1]!) === whole(grouped[i]!))
            expect(grouped[i - 1]!).toBeLessThan(grouped[i]!);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a bulk-loaded index reads in key order, through writes before and after its first read', () => {
    fc.assert(
      fc.property(
        fc.array(relationshipArb, { maxLength: 60 }),
        fc.array(fc.tuple(fc.boolean(), relationshipArb), { maxLength: 20 }),
        (loaded, writes) => {
          const { index } = RelationshipIndex.build(loaded);
          const present = new Map(loaded.map((r) => [relationshipKey(r), r]));
          const inKeyOrder = () => [...present.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          for (const [i, [insert, r]] of writes.entries()) {
            // Halfway, a read builds the key ordering: later writes must keep it up to date.
            if (i === writes.length >> 1) expect(index.all().map(relationshipKey)).toEqual(inKeyOrder());
            if (insert) {
              index.insert(r);
              present.set(relationshipKey(r), r);
            } else {
              const row = index.find(r);
              if (row >= 0) index.remove(row);
              present.delete(relationshipKey(r));
            }
          }
          const expected = inKeyOrder();
          expect(index.all().map(relationshipKey)).toEqual(expected);
          expect(index.size).toBe(expected.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
