// On a Redis Cluster the change feed is a sharded channel: the write scripts SPUBLISH it and each
// watcher SSUBSCRIBEs on the master that owns the store's slot, so a change set never crosses the
// cluster bus to the other masters (a classic PUBLISH from a script is forwarded to every node);
// when the slot moves to another master, the watch ends and the next one subscribes there.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UnavailableError } from '../../server/src/errors.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import type { RelationshipUpdate } from '../../server/src/store/index.js';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import type { ChangeSet } from '../../server/src/store/store.js';
import { RedisCluster, type RedisServer } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';

let cluster: RedisCluster | undefined;

beforeAll(async () => {
  cluster = await RedisCluster.start(3);
});

afterAll(async () => {
  await cluster?.stop();
});

const touch = (text: string): RelationshipUpdate => ({
  operation: 'touch',
  relationship: parseRelationship(text),
});

/** A counter of the node's CLUSTER INFO (absent until it is first non-zero). */
async function clusterStat(node: RedisServer, name: string): Promise<number> {
  const line = (await node.cli('CLUSTER', 'INFO')).split('\n').find((l) => l.startsWith(`${name}:`));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** A writer and a follower on one store of the Cluster, and the store's feed channel. */
async function storePair(storeName: string): Promise<{
  writer: RedisStore;
  follower: RedisStore;
  channel: string;
}> {
  const url = (cluster as RedisCluster).url;
  const [writer, follower] = await Promise.all([
    RedisStore.connect({ url, storeName, connectTimeoutMs: 10_000 }),
    RedisStore.connect({ url, storeName, connectTimeoutMs: 10_000 }),
  ]);
  return { writer, follower, channel: `{gatehouse:${storeName}}:changelog:feed` };
}

/** Clients of the node subscribed to the sharded `channel` (PUBSUB SHARDNUMSUB). */
async function shardSubscribers(node: RedisServer, channel: string): Promise<number> {
  return Number((await node.cli('PUBSUB', 'SHARDNUMSUB', channel)).split('\n')[1] ?? 0);
}

it('follows writes on the sharded feed, and no change set crosses the cluster bus', async () => {
  const nodes = (cluster as RedisCluster).nodes;
  const { writer, follower, channel } = await storePair('sharded');
  const stop = new AbortController();
  try {
    const start = await follower.revision();
    const received: ChangeSet[] = [];
    const following = (async () => {
      for await (const change of follower.watch(start, stop.signal)) received.push(change);
    })();
    // The watcher subscribes on the master that owns the store's slot, and only there (so does
    // a store's mirror, once a write builds it: redis-mirror.ts).
    await waitUntil(
      'the watcher to subscribe to the sharded feed',
      async () => {
        const counts = await Promise.all(nodes.map((n) => shardSubscribers(n, channel)));
        return counts.filter((n) => n > 0).length === 1;
      },
      20_000,
    );
    const busBefore = await Promise.all(
      nodes.map((n) => clusterStat(n, 'cluster_stats_messages_publish_sent')),
    );
    for (let i = 0; i < 20; i++) await writer.write([touch(`doc:d${i}#viewer@user:u${i}`)]);
    await waitUntil('the follower to receive the 20 writes', () => received.length >= 20, 20_000);
    expect(received.map((c) => c.revision)).toEqual(Array.from({ length: 20 }, (_, i) => start + 1 + i));
    expect(received[19]?.changes[0]?.relationship.resource.id).toBe('d19');
    const busAfter = await Promise.all(
      nodes.map((n) => clusterStat(n, 'cluster_stats_messages_publish_sent')),
    );
    // A classic PUBLISH from a script would have sent each change set to the two other masters.
    expect(busAfter).toEqual(busBefore);
    stop.abort();
    await following;
  } finally {
    stop.abort();
    await Promise.all([writer.close(), follower.close()]);
  }
}, 60_000);

/** Moves `slot` and its keys from the master `from` to the master `to` (CLUSTER SETSLOT, MIGRATE). */
async function migrateSlot(
  nodes: readonly RedisServer[],
  slot: number,
  from: RedisServer,
  to: RedisServer,
): Promise<void> {
  const [fromId, toId] = [
    (await from.cli('CLUSTER', 'MYID')).trim(),
    (await to.cli('CLUSTER', 'MYID')).trim(),
  ];
  await to.cli('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
  await from.cli('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
  for (;;) {
    const keys = (await from.cli('CLUSTER', 'GETKEYSINSLOT', String(slot), '100'))
      .split('\n')
      .filter(Boolean);
    if (keys.length === 0) break;
    await from.cli('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys);
  }
  for (const node of [to, from, ...nodes.filter((n) => n !== to && n !== from)]) {
    await node.cli('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
  }
}

it('ends the watch when the store slot moves to another master, and the next one follows there', async () => {
  const nodes = (cluster as RedisCluster).nodes;
  const { writer, follower, channel } = await storePair('moving');
  const slot = Number(await nodes[0]!.cli('CLUSTER', 'KEYSLOT', channel));
  const holds = async (node: RedisServer): Promise<boolean> =>
    (await node.cli('CLUSTER', 'NODES'))
      .split('\n')
      .some((line) => line.includes('myself') && line.includes('master') && ownsSlot(line, slot));
  const stop = new AbortController();
  try {
    for (let i = 0; i < 3; i++) await writer.write([touch(`doc:m${i}#viewer@user:u${i}`)]);
    const received: ChangeSet[] = [];
    let ended: unknown;
    const first = (async () => {
      try {
        for await (const change of follower.watch(0, stop.signal)) received.push(change);
      } catch (err) {
        ended = err;
      }
    })();
    const owner = (await Promise.all(nodes.map(async (n) => ((await holds(n)) ? n : undefined)))).find(
      Boolean,
    )!;
    await waitUntil(
      'the watcher (and the mirror of the writer) to subscribe on the owner',
      async () => (await shardSubscribers(owner, channel)) >= 1,
      20_000,
    );
    await waitUntil('the first writes', () => received.length >= 3, 20_000);
    const target = nodes.find((n) => n !== owner)!;
    await migrateSlot(nodes, slot, owner, target);
    // The owner's SUNSUBSCRIBE ends the watch, at once rather than at some later idle check.
    await waitUntil('the watch to end', () => ended !== undefined, 10_000);
    await first;
    expect(ended).toBeInstanceOf(UnavailableError);
    expect((ended as Error).message).toMatch(/slot moved/);
    // A new watch from where the first stopped subscribes on the new master (after the
    // client learns of the move: a replica retries, as this loop does) and misses nothing.
    for (let i = 3; i < 6; i++) await writer.write([touch(`doc:m${i}#viewer@user:u${i}`)]);
    const resumed = [...received];
    await waitUntil(
      'a watch on the new master to deliver the writes made after the move',
      async () => {
        const again = new AbortController();
        const got: ChangeSet[] = [];
        const following = (async () => {
          try {
            for await (const change of follower.watch(resumed.at(-1)?.revision ?? 0, again.signal)) {
              got.push(change);
              if (got.length === 3) again.abort();
            }
          } catch {
            // not there yet (a stale slot table, MOVED): try again
          }
        })();
        await Promise.race([following, new Promise((r) => setTimeout(r, 2000))]);
        again.abort();
        await following;
        if (got.length < 3) return false;
        resumed.push(...got);
        return true;
      },
      30_000,
    );
    expect(resumed.map((c) => c.revision)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await shardSubscribers(owner, channel)).toBe(0);
  } finally {
    stop.abort();
    await Promise.all([writer.close(), follower.close()]);
  }
}, 90_000);

/** Whether a CLUSTER NODES line's slot ranges include `slot`. */
function ownsSlot(line: string, slot: number): boolean {
  return line
    .split(' ')
    .slice(8)
    .some((range) => {
      const [a, b] = range.split('-').map(Number);
      return a !== undefined && slot >= a && slot <= (b ?? a);
    });
}
