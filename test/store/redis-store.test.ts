// RedisStore runs the shared Store contract suite against a real standalone redis-server and
// against a three-master Redis Cluster, both started on free loopback ports for this file.
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import { RedisCluster, RedisServer } from '../support/redis-server.js';
import { runStoreContract, type StoreContractOptions } from './store-contract.js';

let standalone: RedisServer | undefined;
let cluster: RedisCluster | undefined;
/** Plain clients that wipe a store's keys before each test. */
let standaloneAdmin: Redis | undefined;
let clusterAdmin: Cluster | undefined;

beforeAll(async () => {
  [standalone, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start(3)]);
  standaloneAdmin = new Redis(standalone.port, '127.0.0.1');
  clusterAdmin = new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
});

afterAll(async () => {
  standaloneAdmin?.disconnect();
  clusterAdmin?.disconnect();
  await Promise.all([standalone?.stop(), cluster?.stop()]);
});

/** Deletes every key under the store's hash tag (its subject buckets are many keys), on every master. */
async function wipeStore(admin: Redis | Cluster, storeName: string): Promise<void> {
  const nodes = admin instanceof Cluster ? admin.nodes('master') : [admin];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `{gatehouse:${storeName}}:*`, 'COUNT', 1000);
      if (keys.length > 0) await node.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

/** A fresh, empty store: its keys are wiped first (the previous test's store is closed by then). */
async function freshStore(
  admin: Redis | Cluster,
  url: string,
  options: StoreContractOptions = {},
): Promise<RedisStore> {
  const storeName = options.storeName ?? 'default';
  await wipeStore(admin, storeName);
  return RedisStore.connect({
    url,
    storeName,
    changelogRetention: options.changelogRetention,
    // An image after every change: the changelog is trimmed only behind images, and the suite's
    // stores are small, so every test also runs with images being published under it.
    imageEveryChanges: 1,
    // Small chunks so the suite's snapshots really come in several chunks.
    snapshotChunkSize: 1000,
    watchBlockMs: 200,
    // The default command timeout (1 s): no call of the contract may block Redis that long.
    connectTimeoutMs: 10_000,
  });
}

runStoreContract('RedisStore (standalone)', (options) => {
  return freshStore(standaloneAdmin as Redis, (standalone as RedisServer).url, options);
});

runStoreContract('RedisStore (three-master Cluster)', (options) => {
  return freshStore(clusterAdmin as Cluster, (cluster as RedisCluster).url, options);
});
