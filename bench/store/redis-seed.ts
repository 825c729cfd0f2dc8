// RedisStore.seedIfEmpty at size: wall time, the seeding process's CPU, and the longest single
// command Redis ran meanwhile (SLOWLOG, every command over 1 ms), against a redis-server this
// script starts on a free port. What it shows: a large seed never holds Redis in one long call
// (it goes as a relationship image in parts of at most 256 KiB, then one commit).
//   node --import tsx bench/store/redis-seed.ts --size 1m
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import { RedisServer } from '../../test/support/redis-server.js';
import { generateGroupVisibility } from '../datasets/group-visibility.js';
import { parseSize } from '../engine/bench-support.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '1m' } } });
const size = parseSize(String(values.size));
const server = await RedisServer.start({
  config: { 'slowlog-log-slower-than': '1000', 'slowlog-max-len': '100000' },
});
const admin = new Redis({ port: server.port, host: '127.0.0.1' });
try {
  const relationships = [...generateGroupVisibility({ relationships: size, seed: 1 }).relationships()];
  const store = await RedisStore.connect({ url: server.url, storeName: 'seed' });
  await admin.slowlog('RESET');
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const seeded = await store.seedIfEmpty(relationships);
  const wall = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  const log = (await admin.slowlog('GET', 100000)) as [number, number, number, string[]][];
  const longest = log.reduce((max, e) => Math.max(max, Number(e[2])), 0);
  if (process.env.SEED_BENCH_DEBUG)
    for (const e of [...log].sort((a, b) => b[2] - a[2]).slice(0, 8))
      console.log(e[2], e[3].slice(0, 2).join(' '), String(e[3][e[3].length - 1]).slice(0, 40));
  console.log(
    JSON.stringify({
      relationships: relationships.length,
      seeded,
      revision: await store.revision(),
      wallS: Number(wall.toFixed(2)),
      clientCpuS: Number(((used.user + used.system) / 1e6).toFixed(2)),
      commandsOver1ms: log.length,
      longestCommandMs: Number((longest / 1000).toFixed(1)),
    }),
  );
  await store.close();
} finally {
  admin.disconnect();
  await server.stop();
}
