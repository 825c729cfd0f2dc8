// Which replica re-seeds a Redis store that came back empty: the freshest one. Every replica
// that sees the new epoch bids its applied revision into one sorted set, waits a bidding
// window so the others can bid too, and the highest bid (ties: the greatest replica id, the
// same answer everywhere) takes the lease. A replica that bids after the winner took the lease
// loses even with a higher revision: the seed is done (and only lands in an empty store).
import type { RedisClient } from './redis-connection.js';

export interface ReseedElection {
  readonly redis: Pick<RedisClient, 'multi' | 'zrevrange' | 'set'>;
  /** The new epoch's re-seed key prefix: bids in `<key>:bids`, the lease in `<key>`. */
  readonly key: string;
  /** This replica, unique in the fleet. */
  readonly candidate: string;
  /** The revision this replica had applied in the lost epoch. */
  readonly revision: number;
  /** How long bids and the lease live. */
  readonly leaseMs: number;
  /** Waits out the bidding window (injected, so tests decide when every bid is in). */
  readonly waitForBids: () => Promise<void>;
}

export interface ReseedVerdict {
  /** True when this replica holds the lease and must seed. */
  readonly elected: boolean;
  /** The highest bidder and its revision when the window closed. */
  readonly freshest: string;
  readonly freshestRevision: number;
}

export async function electReseeder(e: ReseedElection): Promise<ReseedVerdict> {
  const bids = `${e.key}:bids`;
  await e.redis.multi().zadd(bids, e.revision, e.candidate).pexpire(bids, e.leaseMs).exec();
  await e.waitForBids();
  const top = await e.redis.zrevrange(bids, 0, 0, 'WITHSCORES');
  const freshest = top[0] ?? e.candidate;
  const freshestRevision = Number(top[1] ?? e.revision);
  if (freshest !== e.candidate) return { elected: false, freshest, freshestRevision };
  const won = await e.redis.set(e.key, e.candidate, 'PX', e.leaseMs, 'NX');
  return { elected: won === 'OK', freshest, freshestRevision };
}
