// On a Redis Cluster the change feed is a sharded channel: the write scripts SPUBLISH it and each
// watcher SSUBSCRIBEs on the master that owns the store's slot, so a change set never crosses the
// cluster bus to the other masters (a classic PUBLISH from a script is forwarded to every node).
import { afterAll, beforeAll, expect, it } from 'vitest';
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

it('follows writes on the sharded feed, and no change set crosses the cluster bus', async () => {
  const nodes = (cluster as RedisCluster).nodes;
  const url = (cluster as RedisCluster).url;
  const [writer, follower] = await Promise.all([
    RedisStore.connect({ url, storeName: 'sharded', connectTimeoutMs: 10_000 }),
    RedisStore.connect({ url, storeName: 'sharded', connectTimeoutMs: 10_000 }),
  ]);
  const channel = '{gatehouse:sharded}:changelog:feed';
  const stop = new AbortController();
  try {
    const start = await follower.revision();
    const received: ChangeSet[] = [];
    const following = (async () => {
      for await (const change of follower.watch(start, stop.signal)) received.push(change);
    })();
    // The watcher subscribes on the master that owns the store's slot, and only there.
    const subscribers = async (node: RedisServer): Promise<number> =>
      Number((await node.cli('PUBSUB', 'SHARDNUMSUB', channel)).split('\n')[1] ?? 0);
    await waitUntil(
      'the watcher to subscribe to the sharded feed',
      async () => {
        const counts = await Promise.all(nodes.map(subscribers));
        return counts.filter((n) => n === 1).length === 1 && counts.every((n) => n <= 1);
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
