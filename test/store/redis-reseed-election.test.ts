// The re-seed election: of the replicas that saw a Redis store come back empty, the one with the
// highest applied revision takes the lease, whatever order they bid in; one that bids after the
// lease was taken loses even when it is fresher.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electReseeder, type ReseedVerdict } from '../../server/src/store/redis/reseed-election.js';
import { RedisServer } from '../support/redis-server.js';

/** Resolves every waiter once `count` have arrived: "every bid is in", without a clock. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived++;
    if (arrived === count) open();
    return opened;
  };
}

describe('electReseeder', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.port, '127.0.0.1');
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it.each([[[5, 9, 7]], [[9, 5, 7]], [[7, 5, 9]]])(
    'elects the freshest of revisions %j, and every replica agrees who it is',
    async (revisions) => {
      const key = `{gatehouse:e}:reseed:${revisions.join('-')}`;
      const waitForBids = barrier(revisions.length);
      const verdicts: ReseedVerdict[] = await Promise.all(
        revisions.map((revision, i) =>
          electReseeder({ redis, key, candidate: `r${i}`, revision, leaseMs: 60_000, waitForBids }),
        ),
      );
      const freshest = `r${revisions.indexOf(9)}`;
      expect(verdicts.map((v) => v.elected)).toEqual(revisions.map((r) => r === 9));
      for (const v of verdicts) expect(v).toMatchObject({ freshest, freshestRevision: 9 });
      expect(await redis.get(key)).toBe(freshest);
    },
  );

  it('breaks a tie the same way on every replica, and a late fresher bidder does not seed again', async () => {
    const key = '{gatehouse:e}:reseed:tie';
    const waitForBids = barrier(2);
    const verdicts = await Promise.all(
      ['a', 'b'].map((candidate) =>
        electReseeder({ redis, key, candidate, revision: 4, leaseMs: 60_000, waitForBids }),
      ),
    );
    expect(verdicts.map((v) => v.elected)).toEqual([false, true]);
    const late = await electReseeder({
      redis,
      key,
      candidate: 'c',
      revision: 10,
      leaseMs: 60_000,
      waitForBids: async () => undefined,
    });
    expect(late).toEqual({ elected: false, freshest: 'c', freshestRevision: 10 });
    expect(await redis.get(key)).toBe('b');
  });
});
