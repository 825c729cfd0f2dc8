import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdInterner } from '../graph/interner.js';
import { IdOrder } from './id-order.js';

/** Ids whose code-unit order differs from naive expectations: case, digits, accents, astral. */
const awkwardId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 6 }),
  fc.constantFrom('a', 'B', 'b', '10', '9', 'é', 'e\u0301', '😀', '\uffff', 'z'),
);

function internAll(interner: IdInterner, ids: readonly string[]): number[] {
  return ids.map((id) => interner.intern(id));
}

describe('IdOrder', () => {
  it('sorts a subset of ids as Array.prototype.sort() orders strings', () => {
    const interner = new IdInterner();
    const numbers = internAll(interner, ['doc-b', 'Doc-a', 'doc-10', 'doc-9', 'é', '😀', 'doc-a']);
    const order = new IdOrder(interner);
    const subset = [numbers[0]!, numbers[2]!, numbers[3]!, numbers[5]!, numbers[1]!];
    expect(order.sortedIds(subset)).toEqual(['Doc-a', 'doc-10', 'doc-9', 'doc-b', '😀']);
    expect(order.sortedIds([])).toEqual([]);
  });

  it('places ids interned after the order was built, then folds them into it', () => {
    const interner = new IdInterner();
    internAll(
      interner,
      Array.from({ length: 100 }, (_, i) => `d${i * 2}`),
    );
    const order = new IdOrder(interner);
    order.sortedIds([0]);
    expect(order.covered).toBe(100);
    // A few new ids stay outside the order and are merged into each answer.
    const odd = internAll(interner, ['d1', 'd51', 'd999', 'a']);
    const all = Array.from({ length: interner.size }, (_, x) => x);
    const expected = all.map((x) => interner.id(x)).sort();
    expect(order.sortedIds(all)).toEqual(expected);
    expect(order.covered).toBe(100);
    // Many new ids are merged into the order itself.
    internAll(
      interner,
      Array.from({ length: 200 }, (_, i) => `d${i * 2 + 1}x`),
    );
    const grown = Array.from({ length: interner.size }, (_, x) => x);
    expect(order.sortedIds(grown)).toEqual(grown.map((x) => interner.id(x)).sort());
    expect(order.covered).toBe(interner.size);
    expect(order.sortedIds(odd)).toEqual(['a', 'd1', 'd51', 'd999']);
  });

  it('agrees with a string sort whatever the ids and however the interner grew', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(awkwardId, { maxLength: 120 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.boolean(), { maxLength: 400 }),
        (batches, picks) => {
          const interner = new IdInterner();
          const order = new IdOrder(interner);
          for (const batch of batches) {
            for (const id of batch) interner.intern(id);
            const subset = Array.from({ length: interner.size }, (_, x) => x).filter(
              (x) => picks[x] ?? x % 3 === 0,
            );
            const expected = subset.map((x) => interner.id(x)).sort();
            expect(order.sortedIds(subset)).toEqual(expected);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
