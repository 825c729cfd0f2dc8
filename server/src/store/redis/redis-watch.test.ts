import { describe, expect, it } from 'vitest';
import type { ChangeSet } from '../store.js';
import type { StreamEntry } from './redis-changelog.js';
import type { RedisClient } from './redis-connection.js';
import { storeKeys } from './redis-layout.js';
import { type CommitListener, watchChangelog } from './redis-watch.js';

const EPOCH = 'e0000000000000001';

/** A watcher connection whose XREAD replies the test hands out one at a time. */
function fakeConnection() {
  const reads: { from: string; reply: (entries: StreamEntry[]) => void }[] = [];
  const conn = {
    mget: async () => ['0', EPOCH],
    xread: (...args: unknown[]) =>
      new Promise((resolve) => {
        reads.push({ from: String(args.at(-1)), reply: (entries) => resolve([['changelog', entries]]) });
      }),
    disconnect: () => undefined,
  };
  return { conn: conn as unknown as RedisClient, reads };
}

const entry = (revision: number, line: string): StreamEntry => [
  `${revision}-0`,
  ['e', EPOCH, 't', '1', 'c', line],
];
const own = (revision: number, line: string): ChangeSet => ({
  revision,
  committedAt: 1,
  changes: [
    {
      operation: 'insert',
      relationship: {
        resource: { type: 'doc', id: line },
        relation: 'viewer',
        subject: { type: 'user', id: 'x' },
      },
    },
  ],
});

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('watchChangelog with the store instance’s own commits', () => {
  it('delivers an own commit at once, holds one past a gap, and skips the changelog’s copies', async () => {
    const { conn, reads } = fakeConnection();
    let listener: CommitListener | undefined;
    const abort = new AbortController();
    const iteration = watchChangelog({
      storeName: 's',
      keys: storeKeys('s'),
      epoch: EPOCH,
      after: 0,
      signal: abort.signal,
      open: async () => conn,
      blockMs: 1000,
      batch: 100,
      highWater: () => 0,
      saw: () => undefined,
      rolledBack: async () => new Error('no'),
      subscribe: (l) => {
        listener = l;
        return () => {
          listener = undefined;
        };
      },
    });
    const received: number[] = [];
    const done = (async () => {
      for await (const c of iteration) received.push(c.revision);
    })();
    await turn();
    expect(reads.map((r) => r.from)).toEqual(['0-0']);
    // Revision 1 committed here: delivered while the XREAD is still blocked.
    listener?.(EPOCH, own(1, 'a'));
    // Revision 3 (here) waits for revision 2 (another replica's), whatever order they come in.
    listener?.(EPOCH, own(3, 'c'));
    // Another epoch's commit is never delivered.
    listener?.('other', own(2, 'z'));
    await turn();
    expect(received).toEqual([1]);
    expect(reads).toHaveLength(1);
    // The blocked XREAD returns 1 (delivered already: skipped) and 2; then 3 comes from memory.
    reads[0]?.reply([entry(1, '+doc:a#viewer@user:x'), entry(2, '+doc:b#viewer@user:x')]);
    await turn();
    expect(received).toEqual([1, 2, 3]);
    expect(reads.at(-1)?.from).toBe('3-0');
    // The changelog's copy of 3 is skipped; 4 is new.
    reads.at(-1)?.reply([entry(3, '+doc:c#viewer@user:x'), entry(4, '+doc:d#viewer@user:x')]);
    await turn();
    expect(received).toEqual([1, 2, 3, 4]);
    abort.abort();
    reads.at(-1)?.reply([]);
    await done;
    expect(listener).toBeUndefined();
  });

  it('still reports a gap the changelog cannot fill (trimmed past the next revision)', async () => {
    const { conn, reads } = fakeConnection();
    const iteration = watchChangelog({
      storeName: 's',
      keys: storeKeys('s'),
      epoch: EPOCH,
      after: 0,
      open: async () => conn,
      blockMs: 1000,
      batch: 100,
      highWater: () => 0,
      saw: () => undefined,
      rolledBack: async () => new Error('no'),
      subscribe: () => () => undefined,
    });
    const failure = (async () => {
      try {
        for await (const _ of iteration);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    await turn();
    reads[0]?.reply([entry(5, '+doc:a#viewer@user:x')]);
    expect(await failure).toMatchObject({ name: 'ChangelogTruncatedError' });
  });
});
