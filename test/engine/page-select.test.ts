// selectPage must give exactly what sorting every id and slicing after the cursor gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectPage } from '../../server/src/engine/page-select.js';

describe('selectPage', () => {
  it('equals sort-then-slice for any ids, cursor and limit', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'A', '1', '_', 'é'), maxLength: 5 }),
          {
            maxLength: 200,
          },
        ),
        fc.option(fc.string({ unit: fc.constantFrom('a', 'b', 'c', '1'), maxLength: 3 }), { nil: undefined }),
        fc.integer({ min: 1, max: 60 }),
        (ids, after, limit) => {
          const expected = [...ids].sort().filter((id) => after === undefined || id > after);
          const { page, more } = selectPage([...ids], after, limit);
          expect(page).toEqual(expected.slice(0, limit));
          expect(more).toBe(expected.length > limit);
        },
      ),
      { numRuns: 500 },
    );
  });
});
