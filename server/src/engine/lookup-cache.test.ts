import { describe, expect, it } from 'vitest';
import { decodeCursor } from './cursor.js';
import { LookupAnswer, LookupCache } from './lookup-cache.js';

const ids = (n: number, prefix = 'd'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('LookupCache', () => {
  it('returns an answer only for its key and graph version', () => {
    const cache = new LookupCache();
    const answer = ids(3);
    const kept = cache.set('mike', 7, answer);
    expect(kept.ids).toBe(answer);
    expect(cache.get('mike', 7)).toBe(kept);
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
    expect(cache.get('a', 1)?.ids).toEqual(['a0']); // a is now the most recent
    cache.set('d', 1, ids(1, 'd'));
    expect(cache.get('b', 1)).toBeUndefined();
    expect(cache.get('a', 1)?.ids).toEqual(['a0']);
    expect(cache.get('c', 1)?.ids).toEqual(['c0']);
    expect(cache.get('d', 1)?.ids).toEqual(['d0']);
    expect(cache.size).toBe(3);
  });

  it('bounds the ids held over all answers, and does not keep one larger than the budget', () => {
    const cache = new LookupCache({ maxEntries: 10, maxIds: 10 });
    cache.set('a', 1, ids(4));
    cache.set('b', 1, ids(4));
    cache.set('c', 1, ids(4)); // 12 ids: a goes
    expect(cache.get('a', 1)).toBeUndefined();
    expect(cache.idCount).toBe(8);
    // ... but it is still paged from.
    expect(cache.set('huge', 1, ids(11)).page(10, 5).resourceIds).toEqual(['d10']);
    expect(cache.get('huge', 1)).toBeUndefined();
    expect(cache.idCount).toBe(8);
    // Replacing an answer counts only the new one.
    cache.set('b', 1, ids(2));
    expect(cache.idCount).toBe(6);
  });
});

describe('LookupAnswer', () => {
  it('pages its ids with a cursor on every page but the last', () => {
    const answer = new LookupAnswer(ids(5));
    const first = answer.page(0, 2);
    expect(first.resourceIds).toEqual(['d0', 'd1']);
    expect(decodeCursor(first.nextCursor!)).toBe('d1');
    expect(answer.page(2, 2).resourceIds).toEqual(['d2', 'd3']);
    expect(answer.page(4, 2)).toEqual({ resourceIds: ['d4'] });
    expect(answer.page(5, 2)).toEqual({ resourceIds: [] });
  });

  it('gives the same page object each time a page is read, so its encoding can be reused', () => {
    const answer = new LookupAnswer(ids(5));
    const page = answer.page(2, 2);
    expect(answer.page(2, 2)).toBe(page);
    expect(answer.page(2, 3)).not.toBe(page);
    expect(answer.page(2, 3).resourceIds).toEqual(['d2', 'd3', 'd4']);
  });

  it('keeps pages up to twice its ids, then makes the rest each time', () => {
    const answer = new LookupAnswer(ids(4));
    answer.page(0, 4); // 4 ids kept
    answer.page(0, 3); // 7
    const third = answer.page(1, 1); // 8: the limit
    expect(answer.page(1, 1)).toBe(third);
    const over = answer.page(2, 1);
    expect(over.resourceIds).toEqual(['d2']);
    expect(answer.page(2, 1)).not.toBe(over);
    expect(answer.page(2, 1)).toEqual(over);
  });
});
