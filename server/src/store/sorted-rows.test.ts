// SortedRows against a sorted array: block splits, seeks and deletes must never lose order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedRows } from './sorted-rows.js';

// Rows are numbers ordered by a key that is not their own order, as store rows are.
const keyOf = (row: number): number => (row * 7919) % 1009;
const byKey = (a: number, b: number): number => keyOf(a) - keyOf(b);
const all = (set: SortedRows): number[] => [...set.from({ block: 0, offset: 0 })];

describe('SortedRows', () => {
  it('matches a sorted array under random adds and deletes, with tiny blocks to force splits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 1008 })), { maxLength: 300 }),
        fc.integer({ min: 0, max: 1008 }),
        (ops, probe) => {
          const set = new SortedRows(byKey, 1);
          const model = new Set<number>();
          for (const [add, row] of ops) {
            expect(add ? set.add(row) : set.delete(row)).toBe(add ? !model.has(row) : model.has(row));
            if (add) model.add(row);
            else model.delete(row);
          }
          const sorted = [...model].sort(byKey);
          expect(set.size).toBe(model.size);
          expect(all(set)).toEqual(sorted);
          const from = [...set.from(set.seek((row) => (keyOf(row) < keyOf(probe) ? -1 : 1)))];
          expect(from).toEqual(sorted.filter((row) => keyOf(row) >= keyOf(probe)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('builds from sorted rows into a set that then behaves like one built by adds', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1008 })),
        fc.array(fc.integer({ min: 0, max: 1008 })),
        (initial, more) => {
          const sorted = [...initial].sort(byKey);
          const set = SortedRows.fromSorted(byKey, sorted, 2);
          expect(all(set)).toEqual(sorted);
          for (const row of more) set.add(row);
          const model = new Set([...sorted, ...more]);
          for (const row of sorted.slice(0, sorted.length / 2)) {
            set.delete(row);
            model.delete(row);
          }
          expect(all(set)).toEqual([...model].sort(byKey));
          expect(set.size).toBe(model.size);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('removes marked rows in one pass, merging thinned blocks, and stays ordered for later adds', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1008 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 1008 })),
        fc.array(fc.integer({ min: 0, max: 1008 })),
        (initial, doomed, later) => {
          const set = SortedRows.fromSorted(byKey, [...initial].sort(byKey), 3);
          const marked = new Uint8Array(1009);
          for (const row of doomed) marked[row] = 1;
          set.deleteMarked(marked);
          const model = new Set(initial.filter((row) => marked[row] !== 1));
          expect(all(set)).toEqual([...model].sort(byKey));
          for (const row of later) {
            expect(set.add(row)).toBe(!model.has(row));
            model.add(row);
          }
          expect(all(set)).toEqual([...model].sort(byKey));
          expect(set.size).toBe(model.size);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('seeks past the end when every row is before the target', () => {
    const set = SortedRows.fromSorted(byKey, [1, 2, 3].sort(byKey), 1);
    expect([...set.from(set.seek(() => -1))]).toEqual([]);
    expect(new SortedRows(byKey).delete(5)).toBe(false);
  });

  it('rejects a block size that cannot hold a row', () => {
    expect(() => new SortedRows(byKey, 0)).toThrow(RangeError);
  });
});
