// Honours a read's consistency requirement: answer from the local graph at once when it already
// satisfies it, otherwise ask the store and wait (bounded by the deadline) for the replica.
import { InvalidArgumentError, UnavailableError } from '../errors.js';
import type { Revision, Store } from '../store/store.js';
import { withDeadline } from './deadline.js';
import type { Generation } from './generation.js';
import type { ReplicaStatus } from './graph-replica.js';
import type { ValidatedConsistency } from './requests.js';
import { tokenIdentityError } from './revision-token.js';

const TOKEN_FIELD = 'consistency.atLeastAsFresh.token';

/** True when the local graph already satisfies the requirement without asking the store. */
export function reached(g: Generation, c: ValidatedConsistency): boolean {
  if (c.kind === 'minimize_latency') return true;
  if (c.kind !== 'at_least_as_fresh') return false;
  const identity = g.replica.identity;
  return c.revision <= g.replica.revision && c.epoch === identity.epoch && c.store === identity.name;
}

/**
 * Wait until the local graph satisfies the consistency requirement, bounded by the deadline.
 * Callers ask `reached` first, so this only runs when the store must be consulted. A token
 * of other data fails with FAILED_PRECONDITION; a token this replica is behind fails fast with
 * UNAVAILABLE while the store cannot be followed, instead of hanging until the deadline.
 */
export async function reach(
  store: Store,
  g: Generation,
  c: ValidatedConsistency,
  deadline: number,
): Promise<void> {
  const replica = g.replica;
  if (c.kind === 'at_least_as_fresh') {
    const identity = replica.identity;
    if (c.store !== identity.name || c.epoch !== identity.epoch) {
      throw tokenIdentityError(c, identity, TOKEN_FIELD);
    }
    failFastWhenDegraded(replica.state, c.revision, replica.revision);
    const newest = await withDeadline(store.revision(), deadline);
    replica.noteStoreRevision(newest);
    if (c.revision > newest) {
      throw new InvalidArgumentError(
        `revision token names revision ${c.revision} but the store's newest is ${newest}: it was not issued by this store`,
        { field: TOKEN_FIELD },
      );
    }
    return replica.waitFor(c.revision, deadline);
  }
  if (c.kind === 'fully_consistent') {
    const newest = await withDeadline(store.revision(), deadline);
    replica.noteStoreRevision(newest);
    if (newest > replica.revision) failFastWhenDegraded(replica.state, newest, replica.revision);
    return replica.waitFor(newest, deadline);
  }
}

function failFastWhenDegraded(state: ReplicaStatus['state'], wanted: Revision, local: Revision): void {
  if (state === 'degraded') {
    throw new UnavailableError(
      `this replica cannot follow the store right now and stands at revision ${local}, behind the requested ${wanted}: retry on another replica, later, or with minimize_latency`,
    );
  }
}
