import { describe, expect, it } from 'vitest';
import type { ChangeSet } from '../store.js';
import type { StreamEntry } from './redis-changelog.js';
import type { RedisClient } from './redis-connection.js';
import { storeKeys } from './redis-layout.js';
import { type CommitListener, type WatchParams, watchChangelog } from './redis-watch.js';

const EPOCH = 'e0000000000000001';

/**
 * The watcher's two connections, faked: the command connection answers MGET with `state` and
 * holds each XREAD until the test replies; the feed connection delivers what the test publishes.
 */
function fakeRedis(state: { revision: number; epoch: string }) {
  const reads: { from: string; reply: (entries: StreamEntry[]) => void }[] = [];
  let mgets = 0;
  const conn = {
    mget: async () => {
      mgets++;
      return [String(state.revision), state.epoch];
    },
    xread: (...args: unknown[]) =>
      new Promise((resolve) => {
        reads.push({ from: String(args.at(-1)), reply: (entries) => resolve([['changelog', entries]]) });
      }),
    disconnect: () => undefined,
  };
  const listeners = new Map<string, ((...args: string[]) => void)[]>();
  const subscribed: string[] = [];
  const feed = {
    on: (event: string, fn: (...args: string[]) => void) => {
      listeners.set(event, [...(listeners.get(event) ?? []), fn]);
      return feed;
    },
    subscribe: async (channel: string) => {
      subscribed.push(channel);
    },
    disconnect: () => undefined,
  };
  const opened: unknown[] = [conn, feed];
  return {
    open: async () => opened.shift() as RedisClient,
    reads,
    subscribed,
    mgets: () => mgets,
    publish: (message: string) => {
      for (const fn of listeners.get('message') ?? []) fn('feed', message);
    },
    closeFeed: () => {
      for (const fn of listeners.get('end') ?? []) fn();
    },
  };
}

const entry = (revision: number, line: string): StreamEntry => [
  `${revision}-0`,
  ['e', EPOCH, 't', '1', 'c', line],
];
const message = (revision: number, line: string, epoch = EPOCH): string => `${revision} ${epoch} 1\n${line}`;
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

function start(redis: ReturnType<typeof fakeRedis>, overrides: Partial<WatchParams> = {}) {
  let listener: CommitListener | undefined;
  const abort = new AbortController();
  const iteration = watchChangelog({
    storeName: 's',
    keys: storeKeys('s'),
    epoch: EPOCH,
    after: 0,
    signal: abort.signal,
    open: redis.open,
    blockMs: 60_000,
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
    ...overrides,
  });
  const received: number[] = [];
  const done = (async (): Promise<unknown> => {
    try {
      for await (const c of iteration) received.push(c.revision);
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  return {
    received,
    done,
    abort,
    commit: (epoch: string, c: ChangeSet) => listener?.(epoch, c),
    listening: () => listener !== undefined,
  };
}

describe('watchChangelog', () => {
  it('follows the feed with no command per change, own commits first, each revision once', async () => {
    const redis = fakeRedis({ revision: 0, epoch: EPOCH });
    const w = start(redis);
    await turn();
    expect(redis.subscribed).toEqual([storeKeys('s').changeFeed]);
    // Revision 1 committed here: delivered at once.
    w.commit(EPOCH, own(1, 'a'));
    // Revision 3 (here) waits for revision 2 (another replica's), which the feed brings.
    w.commit(EPOCH, own(3, 'c'));
    // Another epoch's commit is never delivered.
    w.commit('other', own(2, 'z'));
    await turn();
    expect(w.received).toEqual([1]);
    redis.publish(message(1, '+doc:a#viewer@user:x')); // the feed's copy of an own commit: skipped
    redis.publish(message(2, '+doc:b#viewer@user:x'));
    await turn();
    expect(w.received).toEqual([1, 2, 3]);
    redis.publish(message(3, '+doc:c#viewer@user:x'));
    redis.publish(message(4, '+doc:d#viewer@user:x'));
    await turn();
    expect(w.received).toEqual([1, 2, 3, 4]);
    expect(redis.reads).toEqual([]);
    expect(redis.mgets()).toBe(1); // where the store stood at the start, nothing since
    w.abort.abort();
    expect(await w.done).toBeUndefined();
    expect(w.listening()).toBe(false);
  });

  it('reads the changelog for what the feed did not bring, and skips what it brought twice', async () => {
    // Revisions 1-2 were committed before the watcher subscribed.
    const redis = fakeRedis({ revision: 2, epoch: EPOCH });
    const w = start(redis);
    await turn();
    expect(redis.reads.map((r) => r.from)).toEqual(['0-0']);
    redis.publish(message(3, '+doc:c#viewer@user:x')); // arrives during the read: held
    redis.reads[0]?.reply([entry(1, '+doc:a#viewer@user:x'), entry(2, '+doc:b#viewer@user:x')]);
    await turn();
    expect(w.received).toEqual([1, 2, 3]);
    // The feed skips 4 (a message lost): its 5 reveals the gap, the changelog fills it.
    redis.publish(message(5, '+doc:e#viewer@user:x'));
    await turn();
    expect(redis.reads.map((r) => r.from)).toEqual(['0-0', '3-0']);
    redis.reads[1]?.reply([entry(4, '+doc:d#viewer@user:x'), entry(5, '+doc:e#viewer@user:x')]);
    await turn();
    expect(w.received).toEqual([1, 2, 3, 4, 5]);
    w.abort.abort();
    await w.done;
  });

  it('reads once, not again and again, for a revision the feed named but the changelog never held', async () => {
    const redis = fakeRedis({ revision: 0, epoch: EPOCH });
    const w = start(redis);
    await turn();
    redis.publish(message(99, '+doc:z#viewer@user:x')); // no script sent this
    await turn();
    expect(redis.reads.map((r) => r.from)).toEqual(['0-0']);
    redis.reads[0]?.reply([]);
    await turn();
    await turn();
    expect(redis.reads).toHaveLength(1);
    redis.publish(message(1, '+doc:a#viewer@user:x'));
    await turn();
    expect(w.received).toEqual([1]);
    w.abort.abort();
    await w.done;
  });

  it('checks the store when nothing arrives for blockMs, and reads a change the feed lost', async () => {
    const state = { revision: 0, epoch: EPOCH };
    const redis = fakeRedis(state);
    const w = start(redis, { blockMs: 5 });
    await turn();
    state.revision = 1; // committed, its message lost
    while (redis.reads.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(redis.mgets()).toBeGreaterThan(1);
    redis.reads[0]?.reply([entry(1, '+doc:a#viewer@user:x')]);
    await turn();
    expect(w.received).toEqual([1]);
    w.abort.abort();
    await w.done;
  });

  it('still reports a gap the changelog cannot fill (trimmed past the next revision)', async () => {
    const redis = fakeRedis({ revision: 5, epoch: EPOCH });
    const w = start(redis);
    await turn();
    redis.reads[0]?.reply([entry(5, '+doc:a#viewer@user:x')]);
    expect(await w.done).toMatchObject({ name: 'ChangelogTruncatedError' });
  });

  it('ends with StoreEpochChangedError on a message of another epoch, and a seed sends it to the changelog', async () => {
    const redis = fakeRedis({ revision: 0, epoch: EPOCH });
    const w = start(redis);
    await turn();
    redis.publish(message(1, '+doc:a#viewer@user:x', 'e-new'));
    expect(await w.done).toMatchObject({ name: 'StoreEpochChangedError' });

    const seeded = fakeRedis({ revision: 0, epoch: EPOCH });
    const s = start(seeded);
    await turn();
    seeded.publish(`1 ${EPOCH} 1 s`);
    await turn();
    expect(seeded.reads.map((r) => r.from)).toEqual(['0-0']);
    seeded.reads[0]?.reply([[`1-0`, ['e', EPOCH, 't', '1', 'c', '', 's', '1']]]);
    expect(await s.done).toMatchObject({ name: 'ChangelogTruncatedError' });
  });

  it('ends with UnavailableError when the feed connection closes', async () => {
    const redis = fakeRedis({ revision: 0, epoch: EPOCH });
    const w = start(redis);
    await turn();
    redis.closeFeed();
    expect(await w.done).toMatchObject({ name: 'UnavailableError' });
  });
});
