import { describe, expect, it } from 'vitest';
import { LookupCache } from './lookup-cache.js';

const ids = (n: number, prefix = 'd'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('LookupCache', () => {
  it('returns an answer only for its key and graph version', () => {
    const cache = new LookupCache();
    const answer = ids(3);
    cache.set('mike', 7, answer);
    expect(cache.get('mike', 7)).toBe(answer);
    expect(cache.get('john', 7)).toBeUndefined();
    expect(cache.get('mike', 8)).toBeUndefined();
  });

  it('drops every answer of an older version once a newer one is stored', () => {
    const cache = new LookupCache();
    cache.set('mike', 1, ids(3));
    cache.set('john', 1, ids(2));
    cache.set('ann', 2, ids(4));
    expect(cache.size).toBe(1);
    expect(cache.idCount).toBe(4);
    expect(cache.get('mike', 1)).toBeUndefined();
  });

  it('keeps as many answers as it has room for, evicting the least recently used', () => {
    const cache = new LookupCache({ maxEntries: 3, maxIds: 1_000 });
    for (const who of ['a', 'b', 'c']) cache.set(who, 1, ids(1, who));
    expect(cache.get('a', 1)).toEqual(['a0']); // a is now the most recent
    cache.set('d', 1, ids(1, 'd'));
    expect(cache.get('b', 1)).toBeUndefined();
    expect(cache.get('a', 1)).toEqual(['a0']);
    expect(cache.get('c', 1)).toEqual(['c0']);
    expect(cache.get('d', 1)).toEqual(['d0']);
    expect(cache.size).toBe(3);
  });

  it('bounds the ids held over all answers, and does not keep one larger than the budget', () => {
    const cache = new LookupCache({ maxEntries: 10, maxIds: 10 });
    cache.set('a', 1, ids(4));
    cache.set('b', 1, ids(4));
    cache.set('c', 1, ids(4)); // 12 ids: a goes
    expect(cache.get('a', 1)).toBeUndefined();
    expect(cache.idCount).toBe(8);
    cache.set('huge', 1, ids(11));
    expect(cache.get('huge', 1)).toBeUndefined();
    expect(cache.idCount).toBe(8);
    // Replacing an answer counts only the new one.
    cache.set('b', 1, ids(2));
    expect(cache.idCount).toBe(6);
  });
});
