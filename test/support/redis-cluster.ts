// Test support: a Redis Cluster of three masters (no replicas) on free loopback ports, formed with
// `redis-cli --cluster create`, and stopped with all its nodes.

import { waitUntil } from './free-port.js';
import { type RedisServer, redisCli, startRedis } from './redis-server.js';

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3` (the RedisStore URL form). */
  readonly url: string;
  stop(): Promise<void>;
}

/** Start `masters` cluster-enabled nodes, assign every slot, and wait until each says cluster_state:ok. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) nodes.push(await startRedis({ cluster: true }));
    await redisCli(
      nodes[0]!.port,
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      30_000,
    );
    for (const node of nodes) {
      await waitUntil(`cluster node ${node.port} to report cluster_state:ok`, async () =>
        (await node.cli('CLUSTER', 'INFO')).includes('cluster_state:ok'),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes,
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    stop,
  };
}
