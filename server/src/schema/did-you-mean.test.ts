// Edit distance and name suggestions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closestName, didYouMean, editDistance } from './did-you-mean.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['view', 'view', 0],
    ['view', 'veiw', 1],
    ['viewer', 'viewr', 1],
    ['member', 'members', 1],
    ['owner', 'admin', 5],
    ['abc', 'ca', 3],
  ])('%j → %j is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('with a limit, agrees with the full distance on whether it is within the limit', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.nat(4), (a, b, limit) => {
        const full = editDistance(a, b);
        const bounded = editDistance(a, b, limit);
        expect(bounded <= limit).toBe(full <= limit);
        if (full <= limit) expect(bounded).toBe(full);
      }),
      { numRuns: 500 },
    );
  });
});

describe('closestName', () => {
  it('suggests only names within a third of the length', () => {
    expect(closestName('viewr', ['viewer', 'owner'])).toBe('viewer');
    expect(closestName('edit', ['admin', 'owner'])).toBeUndefined();
    expect(closestName('ab', ['xy'])).toBeUndefined();
  });

  it('breaks ties alphabetically, whatever the candidate order', () => {
    expect(closestName('cat', ['car', 'bat'])).toBe('bat');
    expect(closestName('cat', ['bat', 'car'])).toBe('bat');
  });

  it('never suggests the name itself', () => {
    expect(closestName('view', ['view'])).toBeUndefined();
  });

  it('renders a message suffix only when there is a suggestion', () => {
    expect(didYouMean('membr', ['member'])).toBe("; did you mean 'member'?");
    expect(didYouMean('zzz', ['member'])).toBe('');
  });
});
