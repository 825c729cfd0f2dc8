// Where Redis's CPU goes per relationship in a write of 1,000: each variant is one EVAL of a
// single kind of operation over 1,000 members shaped like the group-visibility dataset's,
// repeated --batches times against a redis-server this script starts on a free loopback port
// (and stops); Redis's own CPU (INFO cpu) per member. Every figure includes passing the
// arguments (~0.8 µs per member): compare them with each other and with the write script's
// CPU per relationship printed by bench/store/store-redis.ts.
//
// Run: npx tsx bench/store/redis-op-costs.ts [--batches 200]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RedisServer } from '../../test/support/redis-server.js';
import { redisCpuSeconds } from './redis-cpu.js';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '200' } } });
const BATCHES = Number(values.batches);
const SIZE = 1000;

const member = (k: number): string =>
  `team_crm/contact:c${(k * 7919) % 1000003}#viewer@team_crm/group:g${k % 5000}#member`;

const VARIANTS: Record<string, string> = {
  'ZMSCORE of the members in one sorted set': `return #redis.call('ZMSCORE', KEYS[1], unpack(ARGV))`,
  'one ZADD of the members into one growing sorted set': `local a = {} for i = 1, #ARGV do a[#a+1] = 0 a[#a+1] = ARGV[i] end return redis.call('ZADD', KEYS[1], unpack(a))`,
  'one ZADD per member into one of 65,521 buckets': `for i = 1, #ARGV do redis.call('ZADD', KEYS[2] .. ((i * 7919 + #ARGV[i]) % 65521), 0, ARGV[i]) end return 1`,
  'an empty redis.call per member (EXISTS)': `for i = 1, #ARGV do redis.call('EXISTS', KEYS[1]) end return 1`,
  'Lua string work per member (no Redis call)': `local t = {} for i = 1, #ARGV do local s = ARGV[i] local at = string.find(s, '@', 1, true) t[i] = string.sub(s, at + 1) .. '@' .. string.sub(s, 1, at - 1) end return #t`,
  'XADD of the members joined': `redis.call('XADD', KEYS[3], 'MAXLEN', 10000, '*', 'c', table.concat(ARGV, '\\n')) return 1`,
};

const server = await RedisServer.start();
const redis = new Redis(server.port, '127.0.0.1');
try {
  console.log(`${BATCHES} batches of ${SIZE} members (the sorted sets grow to ${BATCHES * SIZE})`);
  for (const [name, lua] of Object.entries(VARIANTS)) {
    await redis.flushall();
    const before = await redisCpuSeconds(redis);
    for (let b = 0; b < BATCHES; b++) {
      const args = Array.from({ length: SIZE }, (_, i) => member(b * SIZE + i));
      await redis.eval(lua, 3, '{t}:rels', '{t}:s:', '{t}:log', ...args);
    }
    const perMember = (((await redisCpuSeconds(redis)) - before) / (BATCHES * SIZE)) * 1e6;
    console.log(`${name}: ${perMember.toFixed(2)} µs of Redis CPU per member`);
  }
} finally {
  redis.disconnect();
  await server.stop();
}
