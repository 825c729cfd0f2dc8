// MicroBatcher: grouping by key, order, splitting at the size limit, and failure of a whole chunk.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BatchEntry, MicroBatcher } from './batcher.js';

function manualScheduler(): { schedule: (f: () => void) => void; run: () => void } {
  let pending: (() => void) | undefined;
  return {
    schedule: (f) => {
      pending = f;
    },
    run: () => {
      const f = pending;
      pending = undefined;
      f?.();
    },
  };
}

describe('MicroBatcher', () => {
  it('dispatches items added before the flush as one group per key, in order, split at maxBatchSize', async () => {
    const dispatched: Array<[string, number[]]> = [];
    const scheduler = manualScheduler();
    const batcher = new MicroBatcher<number, number>(
      (key, entries) => {
        dispatched.push([key, entries.map((e) => e.item)]);
        for (const e of entries) e.resolve(e.item * 10);
      },
      3,
      scheduler.schedule,
    );
    const results = [1, 2, 3, 4, 5].map((n) => batcher.add(n % 2 === 0 ? 'even' : 'odd', n));
    expect(dispatched).toEqual([]);
    scheduler.run();
    await expect(Promise.all(results)).resolves.toEqual([10, 20, 30, 40, 50]);
    expect(dispatched).toEqual([
      ['odd', [1, 3, 5]],
      ['even', [2, 4]],
    ]);
  });

  it('splits a group larger than maxBatchSize into consecutive chunks', () => {
    const sizes: number[] = [];
    const scheduler = manualScheduler();
    const batcher = new MicroBatcher<number, void>(
      (_key, entries: readonly BatchEntry<number, void>[]) => {
        sizes.push(entries.length);
        for (const e of entries) e.resolve();
      },
      4,
      scheduler.schedule,
    );
    for (let i = 0; i < 10; i++) void batcher.add('k', i);
    scheduler.run();
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('rejects every entry of a chunk whose dispatch throws, and starts a new batch afterwards', async () => {
    const scheduler = manualScheduler();
    let calls = 0;
    const batcher = new MicroBatcher<number, number>(
      (_key, entries) => {
        calls++;
        if (calls === 1) throw new Error('transport exploded');
        for (const e of entries) e.resolve(e.item);
      },
      10,
      scheduler.schedule,
    );
    const first = [batcher.add('k', 1), batcher.add('k', 2)];
    scheduler.run();
    await expect(Promise.allSettled(first)).resolves.toMatchObject([
      { status: 'rejected' },
      { status: 'rejected' },
    ]);
    const second = batcher.add('k', 3);
    scheduler.run();
    await expect(second).resolves.toBe(3);
  });

  it('refuses a non-positive batch size', () => {
    expect(() => new MicroBatcher(() => undefined, 0)).toThrow(/maxBatchSize/);
  });

  it('loses, repeats and reorders nothing, and never exceeds maxBatchSize, for any sequence of adds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), value: fc.integer() }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        async (adds, maxBatchSize) => {
          const chunks: Array<{ key: string; items: number[] }> = [];
          const scheduler = manualScheduler();
          const batcher = new MicroBatcher<number, number>(
            (key, entries) => {
              chunks.push({ key, items: entries.map((e) => e.item) });
              for (const e of entries) e.resolve(e.item);
            },
            maxBatchSize,
            scheduler.schedule,
          );
          const results = adds.map((a) => batcher.add(a.key, a.value));
          scheduler.run();
          expect(await Promise.all(results)).toEqual(adds.map((a) => a.value));
          for (const key of ['a', 'b', 'c']) {
            const sent = chunks.filter((c) => c.key === key).flatMap((c) => c.items);
            expect(sent).toEqual(adds.filter((a) => a.key === key).map((a) => a.value));
          }
          expect(chunks.every((c) => c.items.length >= 1 && c.items.length <= maxBatchSize)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
