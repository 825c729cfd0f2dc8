// GraphReplica's state machine over a store that fails on command: build → follow, resync on a
// truncated changelog or a failed apply (the old graph serving meanwhile), degraded with
// backoff while the store is unavailable, and a new store epoch handed to onEpochChanged.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ChangelogTruncatedError,
  StoreEpochChangedError,
  UnavailableError,
} from '../../server/src/errors.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import type { EpochChange } from '../../server/src/service/graph-replica.js';
import { GraphReplica } from '../../server/src/service/graph-replica.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { PATIENCE, PATIENT_MS } from '../support/wait-until.js';
import { FaultyStore } from './faulty-store.js';
import { fixturePolicySet } from './fixture.js';

const set = fixturePolicySet();
const ENGINE = { maxDepth: 50, maxLookupPageSize: 1000 };
const WAIT = PATIENCE;
const touch = (s: string) => ({ operation: 'touch' as const, relationship: parseRelationship(s) });

const open: GraphReplica[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

async function replicaOver(
  store: FaultyStore,
  extra: Partial<Parameters<typeof GraphReplica.start>[2] & object> = {},
): Promise<GraphReplica> {
  const replica = await GraphReplica.start(set.schema, store, {
    engine: ENGINE,
    retryInitialMs: 1,
    retryMaxMs: 4,
    ...extra,
  });
  open.push(replica);
  return replica;
}

function seeded(): FaultyStore {
  return new FaultyStore(MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)));
}

/** Can `user` view `doc` on the replica's current engine? */
function canView(replica: GraphReplica, doc: string, user: string): boolean {
  return replica.engine.check({
    resource: { type: 'document', id: doc },
    permission: 'view',
    subject: { type: 'user', id: user },
  });
}

describe('GraphReplica', () => {
  it('builds from the snapshot, then follows each change incrementally on the same graph', async () => {
    const store = seeded();
    const replica = await replicaOver(store);
    const graph = replica.graph;
    expect(replica.state).toBe('following');
    expect(canView(replica, 'plan', 'alice')).toBe(true);
    const cs = await store.write([touch('document:plan#viewer@user:zed')]);
    await replica.waitFor(cs.revision, Date.now() + PATIENT_MS);
    expect(canView(replica, 'plan', 'zed')).toBe(true);
    expect(replica.graph).toBe(graph);
    expect(store.snapshots).toBe(1);
    expect(replica.status()).toMatchObject({
      state: 'following',
      lagRevisions: 0,
      lagSeconds: 0,
      resyncs: 0,
    });
  });

  it('resyncs from a fresh snapshot on a truncated changelog, serving the old graph until the swap', async () => {
    const store = seeded();
    const replica = await replicaOver(store);
    const before = replica.graph;
    store.holdSnapshots();
    store.down = false;
    // Writes the replica never sees through its watch: the changelog "was trimmed" behind it.
    store.fault(new ChangelogTruncatedError('trimmed behind you', 99));
    await vi.waitFor(() => expect(replica.state).toBe('resyncing'), WAIT);
    await store.inner.write([touch('document:plan#viewer@user:late')]);
    expect(canView(replica, 'plan', 'alice')).toBe(true); // the old graph still answers
    expect(replica.graph).toBe(before);
    store.releaseSnapshots();
    await vi.waitFor(() => expect(replica.state).toBe('following'), WAIT);
    expect(replica.graph).not.toBe(before);
    expect(canView(replica, 'plan', 'late')).toBe(true);
    expect(replica.status()).toMatchObject({ resyncs: 1, lastError: 'trimmed behind you' });
    // And it follows on from the new graph's revision.
    const cs = await store.write([touch('document:plan#viewer@user:after')]);
    await replica.waitFor(cs.revision, Date.now() + PATIENT_MS);
    expect(canView(replica, 'plan', 'after')).toBe(true);
  });

  it('resyncs when a change cannot be applied (divergence) and answers from the store data again', async () => {
    const store = seeded();
    const replica = await replicaOver(store);
    store.corruptNext = true;
    const cs = await store.write([touch('document:plan#viewer@user:zed')]);
    await replica.waitFor(cs.revision, Date.now() + PATIENT_MS);
    await vi.waitFor(() => expect(replica.status().resyncs).toBe(1), WAIT);
    expect(replica.state).toBe('following');
    expect(canView(replica, 'plan', 'zed')).toBe(true);
    expect(replica.status().lastError).toMatch(/applying revision 2 failed/);
  });

  it('keeps serving while the store is unavailable, then catches up from its last revision without a resync', async () => {
    const store = seeded();
    const replica = await replicaOver(store);
    store.down = true;
    store.fault(new UnavailableError('connection reset'));
    await vi.waitFor(() => expect(replica.state).toBe('degraded'), WAIT);
    expect(canView(replica, 'plan', 'alice')).toBe(true);
    expect(replica.status().lastError).toMatch(/connection reset|store is down/);
    // Other writers carry on meanwhile.
    await store.inner.write([touch('document:plan#viewer@user:w1')]);
    await store.inner.write([touch('document:plan#viewer@user:w2')]);
    expect(canView(replica, 'plan', 'w1')).toBe(false);
    store.down = false;
    await replica.waitFor(3, Date.now() + PATIENT_MS);
    await vi.waitFor(() => expect(replica.state).toBe('following'), WAIT);
    expect(canView(replica, 'plan', 'w1')).toBe(true);
    expect(canView(replica, 'plan', 'w2')).toBe(true);
    expect(replica.status()).toMatchObject({ resyncs: 0, lagRevisions: 0 });
    expect(store.snapshots).toBe(1);
  });

  it('reports lag in revisions it knows of, and in seconds from its clock while degraded', async () => {
    let now = 1_000_000;
    const store = seeded();
    const replica = await replicaOver(store, { clock: () => now });
    store.down = true;
    store.fault(new UnavailableError('down'));
    await vi.waitFor(() => expect(replica.state).toBe('degraded'), WAIT);
    replica.noteStoreRevision(replica.revision + 7);
    now += 4500;
    expect(replica.status()).toMatchObject({ state: 'degraded', lagRevisions: 7, lagSeconds: 4.5 });
    store.down = false;
  });

  it('on a new store epoch keeps serving, calls onEpochChanged, then resyncs and reports lost revisions', async () => {
    const store = seeded();
    const seen: EpochChange[] = [];
    let hookSawOldData = false;
    const replica = await replicaOver(store, {
      onEpochChanged: (change) => {
        seen.push(change);
        hookSawOldData = canView(replica, 'plan', 'w3');
      },
    });
    for (let i = 1; i <= 3; i++) await store.write([touch(`document:plan#viewer@user:w${i}`)]);
    await replica.waitFor(4, Date.now() + PATIENT_MS);
    const oldIdentity = replica.identity;
    // The store comes back empty: new epoch, one seeded revision.
    store.inner = new MemoryStore();
    await store.inner.write([touch('document:fresh#owner@user:nina')]);
    store.fault(new StoreEpochChangedError('epoch changed', oldIdentity.epoch, undefined));
    await vi.waitFor(() => expect(replica.status().resyncs).toBe(1), WAIT);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ previous: oldIdentity, revision: 4 });
    expect(seen[0]?.current?.epoch).not.toBe(oldIdentity.epoch);
    expect(hookSawOldData).toBe(true);
    expect(replica.identity.epoch).toBe(seen[0]?.current?.epoch);
    expect(replica.status()).toMatchObject({ state: 'following', lostRevisions: 3 });
    expect(canView(replica, 'fresh', 'nina')).toBe(true);
    expect(canView(replica, 'plan', 'w3')).toBe(false);
  });

  it('notices a new epoch when the store comes back, even if the store never said so', async () => {
    const store = seeded();
    const replica = await replicaOver(store);
    const oldEpoch = replica.identity.epoch;
    store.down = true;
    store.fault(new UnavailableError('down'));
    await vi.waitFor(() => expect(replica.state).toBe('degraded'), WAIT);
    store.inner = new MemoryStore();
    store.down = false;
    await vi.waitFor(() => expect(replica.status().resyncs).toBe(1), WAIT);
    expect(replica.identity.epoch).not.toBe(oldEpoch);
    expect(replica.status().lostRevisions).toBe(1);
    expect(replica.relationshipCount).toBe(0);
  });

  it('fails pending waits with UNAVAILABLE on close and stops following', async () => {
    const store = seeded();
    const replica = await replicaOver(store);
    const waiting = replica.waitFor(99, Date.now() + 60_000);
    await replica.close();
    await expect(waiting).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(replica.state).toBe('closed');
    await store.write([touch('document:plan#viewer@user:zed')]);
    expect(canView(replica, 'plan', 'zed')).toBe(false);
  });
});
