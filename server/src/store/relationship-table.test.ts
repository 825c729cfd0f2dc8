// RelationshipTable: rows must compare exactly as their canonical strings do, including names
// where one is a prefix of another and the separator decides (`doc1:` < `doc:`), and interned
// strings must be released once neither a row nor a packed change refers to them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRelationship, parseRelationship, type Relationship } from '../model/relationship.js';
import { PACKED_DELETE, PACKED_INSERT, PACKED_WIDTH, RelationshipTable } from './relationship-table.js';

// Names chosen so that many are prefixes of others, followed by characters on both sides of
// each separator (':' '#' '@'): digits and '/' sort below ':', letters above.
const TYPES = ['a', 'a1', 'a/b', 'a_', 'ab'];
const IDS = ['x', 'x1', 'x.', 'x-', 'X', '*'];
const RELATIONS = ['r', 'r1', 'r_', 'rr'];

const relationshipArb: fc.Arbitrary<Relationship> = fc
  .record({
    resourceType: fc.constantFrom(...TYPES),
    resourceId: fc.constantFrom(...IDS.filter((id) => id !== '*')),
    relation: fc.constantFrom(...RELATIONS),
    subjectType: fc.constantFrom(...TYPES),
    subjectId: fc.constantFrom(...IDS),
    subjectRelation: fc.option(fc.constantFrom(...RELATIONS), { nil: undefined }),
  })
  .map((f) =>
    parseRelationship(
      `${f.resourceType}:${f.resourceId}#${f.relation}@${f.subjectType}:${f.subjectId}${
        f.subjectRelation === undefined || f.subjectId === '*' ? '' : `#${f.subjectRelation}`
      }`,
    ),
  );

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const stringOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

describe('RelationshipTable', () => {
  it('orders rows exactly as their canonical strings, and compares rows with strings the same way', () => {
    fc.assert(
      fc.property(fc.array(relationshipArb, { minLength: 2, maxLength: 40 }), fc.string(), (rels, probe) => {
        const table = new RelationshipTable();
        const rows = new Map<string, number>();
        for (const r of rels) {
          const row = table.insert(r);
          if (row >= 0) rows.set(formatRelationship(r), row);
        }
        const keys = [...rows.keys()];
        for (const a of keys) {
          const rowA = rows.get(a) as number;
          expect(table.key(rowA)).toBe(a);
          const c = table.compareToString(rowA, probe);
          expect(sign(Math.min(c, 1))).toBe(stringOrder(a, probe));
          expect(c === 0 || c === 2).toBe(a.startsWith(probe));
          for (const b of keys)
            expect(sign(table.compare(rowA, rows.get(b) as number))).toBe(stringOrder(a, b));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finds stored relationships, reports a duplicate insert as its row, and forgets removed ones', () => {
    const table = new RelationshipTable();
    const r = parseRelationship('doc:a#viewer@group:g#member');
    const row = table.insert(r);
    expect(row).toBeGreaterThanOrEqual(0);
    expect(table.insert(parseRelationship('doc:a#viewer@group:g#member'))).toBe(-1 - row);
    expect(table.find(parseRelationship('doc:a#viewer@group:g'))).toBe(-1);
    expect(formatRelationship(table.relationship(row))).toBe('doc:a#viewer@group:g#member');
    table.remove(row);
    expect(table.find(r)).toBe(-1);
    expect(table.size).toBe(0);
    expect(table.pool.size).toBe(0);
  });

  it('keeps the strings of a packed change until it is released, after its row is gone', () => {
    const table = new RelationshipTable();
    const row = table.insert(parseRelationship('doc:a#viewer@user:x'));
    const packed = new Int32Array(2 * PACKED_WIDTH);
    table.pack(packed, 0, PACKED_INSERT, row);
    table.pack(packed, 1, PACKED_DELETE, row);
    table.remove(row);
    // A new relationship may reuse the row and freed numbers: the packed changes must not change.
    table.insert(parseRelationship('folder:b#owner@user:y'));
    expect(table.unpack(packed).map((c) => `${c.operation} ${formatRelationship(c.relationship)}`)).toEqual([
      'insert doc:a#viewer@user:x',
      'delete doc:a#viewer@user:x',
    ]);
    table.releasePacked(packed);
    // Relation names are reference-counted: 'viewer' went with the packed changes, 'owner' stays.
    expect(table.pool.size).toBe(1);
  });

  it('keeps many relationships findable across hash growth and removals', () => {
    const table = new RelationshipTable();
    const rows: number[] = [];
    for (let i = 0; i < 5000; i++)
      rows.push(table.insert(parseRelationship(`doc:d${i}#viewer@user:u${i % 7}`)));
    for (let i = 0; i < 5000; i += 2) table.remove(rows[i] as number);
    for (let i = 0; i < 5000; i++) {
      const found = table.find(parseRelationship(`doc:d${i}#viewer@user:u${i % 7}`));
      expect(found).toBe(i % 2 === 0 ? -1 : rows[i]);
    }
    expect(table.size).toBe(2500);
  });

  it('indexes bulk-appended rows on first use, leaving out discarded duplicates', () => {
    const table = new RelationshipTable();
    const appended: number[] = [];
    for (let i = 0; i < 3000; i++)
      appended.push(table.append(parseRelationship(`doc:d${i % 2000}#viewer@user:u${(i % 2000) % 7}`)));
    // The bulk load keeps the last of equal rows: the first 1000 are duplicates of the last 1000.
    for (let i = 0; i < 1000; i++) table.discard(appended[i] as number);
    table.indexRows();
    expect(table.size).toBe(2000);
    // A first insert (of a new relationship) builds the index without indexing its own row twice.
    const added = table.insert(parseRelationship('doc:new#viewer@user:u1'));
    table.remove(added);
    expect(table.find(parseRelationship('doc:new#viewer@user:u1'))).toBe(-1);
    for (let i = 0; i < 2000; i++) {
      const r = parseRelationship(`doc:d${i}#viewer@user:u${i % 7}`);
      const row = table.find(r);
      expect(row).toBe(appended[i < 1000 ? i + 2000 : i]);
      expect(table.insert(r)).toBe(-1 - row);
    }
    for (let i = 0; i < 2000; i += 2)
      table.remove(table.find(parseRelationship(`doc:d${i}#viewer@user:u${i % 7}`)));
    expect(table.size).toBe(1000);
    expect(table.find(parseRelationship('doc:d0#viewer@user:u0'))).toBe(-1);
    expect(table.find(parseRelationship('doc:d1#viewer@user:u1'))).toBe(appended[2001]);
  });
});
