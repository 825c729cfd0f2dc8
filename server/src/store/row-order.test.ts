// The radix ordering of a bulk load gives exactly the comparison sort's key order (prefixes and
// separators included), and the subject grouping keeps key order within each subject.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRelationship, type Relationship } from '../model/relationship.js';
import { RelationshipTable, SUBJECT_ID, SUBJECT_TYPE } from './relationship-table.js';
import { keyOrder, radixKeyOrder, subjectOrder } from './row-order.js';

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
