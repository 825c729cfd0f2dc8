// What following a store costs as the fleet grows: N watchers (each on a RedisStore of its own,
// as N replicas would be) follow single-relationship writes paced at R/s from one more store,
// against a redis-server this script starts on a free loopback port (never 6379) and stops.
// Reports, per N: Redis's CPU per write (INFO cpu), this process's CPU per write (the writer and
// the N watchers together), the commands Redis ran per write (INFO commandstats, those a script
// runs included), and the time
// from issuing a write to each watcher receiving it (p50 / p99 over every delivery).
// With --cluster N: a Cluster of N masters instead (Redis's CPU and commands summed over them),
// and the publish messages the masters sent each other over the cluster bus per write.
//
// Run: npx tsx bench/store/redis-watchers.ts [--watchers 1,4,16] [--writes 3000] [--rate 500] [--cluster 3]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import { RedisCluster, RedisServer } from '../../test/support/redis-server.js';
import { redisCpuSeconds } from './redis-cpu.js';

const { values } = parseArgs({
  options: {
    watchers: { type: 'string', default: '1,4,16' },
    writes: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '500' },
    cluster: { type: 'string' },
  },
});
const writes = Number(values.writes);
const rate = Number(values.rate);

async function commandCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** Publish messages a node sent over the cluster bus so far, classic and sharded (CLUSTER INFO). */
async function busPublishes(redis: Redis): Promise<number> {
  const info = (await redis.call('CLUSTER', 'INFO')) as string;
  return [...info.matchAll(/cluster_stats_messages_publish(?:shard)?_sent:(\d+)/g)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

const clustered = values.cluster !== undefined;
const server = clustered ? await RedisCluster.start(Number(values.cluster)) : await RedisServer.start();
const nodes = server instanceof RedisCluster ? server.nodes : [server];
const admins = nodes.map((node) => new Redis(node.port, '127.0.0.1'));
const sum = async (read: (redis: Redis) => Promise<number>): Promise<number> =>
  (await Promise.all(admins.map(read))).reduce((a, b) => a + b, 0);
try {
  for (const n of values.watchers.split(',').map(Number)) {
    const storeName = `w${n}`;
    const url = server.url;
    const writer = await RedisStore.connect({ url, storeName });
    const followers = await Promise.all(
      Array.from({ length: n }, () => RedisStore.connect({ url, storeName })),
    );
    const issuedAt: number[] = [];
    const delays: number[] = [];
    let delivered = 0;
    const aborts = followers.map(() => new AbortController());
    const following = followers.map(async (store, k) => {
      for await (const change of store.watch(0, aborts[k]?.signal)) {
        delays.push(performance.now() - (issuedAt[change.revision] ?? Number.NaN));
        delivered++;
      }
    });
    // Let every watcher subscribe before the first write.
    await new Promise((r) => setTimeout(r, 200));
    const [cpu0, calls0, bus0, own0] = [
      await sum(redisCpuSeconds),
      await sum(commandCalls),
      clustered ? await sum(busPublishes) : 0,
      process.cpuUsage(),
    ];
    const start = performance.now();
    for (let i = 0; i < writes; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const revision = i + 1;
      issuedAt[revision] = performance.now();
      await writer.write([
        { operation: 'touch', relationship: parseRelationship(`doc:d${i}#viewer@user:u${i % 97}`) },
      ]);
    }
    while (delivered < writes * n) await new Promise((r) => setTimeout(r, 5));
    const own = process.cpuUsage(own0);
    const [cpu1, calls1, bus1] = [
      await sum(redisCpuSeconds),
      await sum(commandCalls),
      clustered ? await sum(busPublishes) : 0,
    ];
    for (const a of aborts) a.abort();
    await Promise.allSettled(following);
    await Promise.all([writer, ...followers].map((s) => s.close()));
    delays.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        watchers: n,
        writes,
        rate,
        redisCpuUsPerWrite: Math.round(((cpu1 - cpu0) * 1e6) / writes),
        redisCommandsPerWrite: Number(((calls1 - calls0) / writes).toFixed(2)),
        ...(clustered ? { busPublishesPerWrite: Number(((bus1 - bus0) / writes).toFixed(2)) } : {}),
        clientCpuUsPerWrite: Math.round((own.user + own.system) / writes),
        deliveryMs: {
          p50: Number(quantile(delays, 0.5).toFixed(3)),
          p99: Number(quantile(delays, 0.99).toFixed(3)),
        },
      }),
    );
  }
} finally {
  for (const admin of admins) admin.disconnect();
  await server.stop();
}
