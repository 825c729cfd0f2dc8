// SortedKeySet against a sorted array: block splits, merges and seeks must never lose order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedKeySet } from './sorted-key-set.js';

describe('SortedKeySet', () => {
  it('matches a sorted array under random adds and deletes, with tiny blocks to force splits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 3 })), { maxLength: 300 }),
        fc.string({ maxLength: 3 }),
        (ops, probe) => {
          const set = new SortedKeySet(2);
          const model = new Set<string>();
          for (const [add, key] of ops) {
            expect(add ? set.add(key) : set.delete(key)).toBe(add ? !model.has(key) : model.has(key));
            if (add) model.add(key);
            else model.delete(key);
          }
          const sorted = [...model].sort();
          expect(set.size).toBe(model.size);
          expect([...set.from('')]).toEqual(sorted);
          expect([...set.from(probe)]).toEqual(sorted.filter((k) => k >= probe));
          expect([...set.from(probe, true)]).toEqual(sorted.filter((k) => k > probe));
          expect([...set.withPrefix(probe)]).toEqual(sorted.filter((k) => k.startsWith(probe)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('builds from sorted keys into a set that then behaves like one built by inserts', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 3 })),
        fc.array(fc.string({ maxLength: 3 })),
        (initial, more) => {
          const sorted = [...initial].sort();
          const set = SortedKeySet.fromSorted(sorted, 2);
          expect([...set.from('')]).toEqual(sorted);
          for (const k of more) set.add(k);
          const model = new Set([...sorted, ...more]);
          for (const k of sorted.slice(0, sorted.length / 2)) {
            set.delete(k);
            model.delete(k);
          }
          expect([...set.from('')]).toEqual([...model].sort());
          expect(set.size).toBe(model.size);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('resumes a prefix scan after a key, whether or not that key is still present', () => {
    const set = new SortedKeySet(2);
    for (const k of ['a:1', 'a:2', 'a:3', 'a:4', 'b:1']) set.add(k);
    expect([...set.withPrefix('a:', 'a:2')]).toEqual(['a:3', 'a:4']);
    set.delete('a:3');
    expect([...set.withPrefix('a:', 'a:3')]).toEqual(['a:4']);
    expect([...set.withPrefix('a:', '0')]).toEqual(['a:1', 'a:2', 'a:4']);
    expect([...set.withPrefix('a:', 'a:9')]).toEqual([]);
  });

  it('rejects a block size that cannot split', () => {
    expect(() => new SortedKeySet(1)).toThrow(RangeError);
  });
});
