// What Redis would spend per relationship if it held only the changelog and per-object version
// counters, and the replicas planned each write against their own copy of the relationship set
// (docs/design/redis-changelog-store.md): the commit script that design needs, run over the
// group-visibility dataset in batches of 1,000 against a redis-server this script starts on a
// free loopback port (and stops). It sized the design before it was built, with fields per
// resource object; the store as built also reads and stamps a field per relationship (see the
// design note's "As built"), so bench/store/store-redis.ts measures the real thing.
//
// Per batch the script: checks the epoch, reads the version of every resource object the batch
// touches (HMGET) and refuses if any is newer than the revision the batch was planned at, bumps
// the revision, stamps the new revision on every touched resource and subject object and on the
// two types (HSET), and appends the change set as one stream entry (XADD). Two batches are in
// flight, as in store-redis.ts; a batch that conflicts with the other is replanned and retried.
// (Naming fields by a 64-bit hash of the object instead saved 2 B per relationship: not worth it.)
//
//   npx tsx bench/store/redis-commit-costs.ts [--size 1m] [--batch 1000] [--inflight 2]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { Relationship } from '../../server/src/model/relationship.js';
import { resourceMember } from '../../server/src/store/redis/redis-layout.js';
import { RedisServer } from '../../test/support/redis-server.js';
import { generateGroupVisibility } from '../datasets/group-visibility.js';
import { parseSize } from '../engine/bench-support.js';
import { redisCpuSeconds } from './redis-cpu.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1m' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '1000' },
    inflight: { type: 'string', default: '2' },
  },
});
const BATCH = Number(values.batch);
const IN_FLIGHT = Number(values.inflight);

// KEYS: epoch, revision, versions, changelog. ARGV: epoch, planned-at revision, how many fields
// are read (n), the n read fields, the bumped fields, then the change set.
const COMMIT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'epoch'} end
local at = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local last = #ARGV - 1
if n > 0 then
  local seen = redis.call('HMGET', KEYS[3], unpack(ARGV, 4, 3 + n))
  for i = 1, n do
    if seen[i] and tonumber(seen[i]) > at then return {'conflict', seen[i]} end
  end
end
local revision = redis.call('INCR', KEYS[2])
local bumps = {}
for i = 4, last do bumps[#bumps + 1] = ARGV[i] bumps[#bumps + 1] = revision end
redis.call('HSET', KEYS[3], unpack(bumps))
redis.call('XADD', KEYS[4], '*', 'r', revision, 'c', ARGV[#ARGV])
return {'ok', revision}
`;

interface Variant {
  readonly name: string;
  readonly field: (kind: string, object: string) => string;
}

const VARIANTS: readonly Variant[] = [
  { name: "fields named by object ('r:type:id')", field: (kind, object) => `${kind}:${object}` },
];

function batchArgs(batch: readonly Relationship[], variant: Variant): string[] {
  // Reads: each resource object once. Bumps: each resource and subject object and type once.
  const reads = new Map<string, string>();
  const bumps = new Map<string, string>();
  for (const r of batch) {
    const resource = `${r.resource.type}:${r.resource.id}`;
    const subject = `${r.subject.type}:${r.subject.id}`;
    reads.set(`r:${resource}`, variant.field('r', resource));
    bumps.set(`s:${subject}`, variant.field('s', subject));
    bumps.set(`rt:${r.resource.type}`, variant.field('rt', r.resource.type));
    bumps.set(`st:${r.subject.type}`, variant.field('st', r.subject.type));
  }
  const changes = batch.map((r) => `+${resourceMember(r)}`).join('\n');
  return [String(reads.size), ...reads.values(), ...bumps.values(), changes];
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

async function measure(variant: Variant, relationships: readonly Relationship[]): Promise<void> {
  const server = await RedisServer.start();
  const redis = new Redis(server.port, '127.0.0.1');
  try {
    const keys = ['{b}:epoch', '{b}:revision', '{b}:versions', '{b}:changelog'];
    await redis.set(keys[0] as string, 'e1');
    const sha = (await redis.script('LOAD', COMMIT)) as string;
    const before = await usedMemory(redis);
    const cpuBefore = await redisCpuSeconds(redis);
    const started = performance.now();
    let planned = 0;
    let next = 0;
    let conflicts = 0;
    const worker = async (): Promise<void> => {
      while (next < relationships.length) {
        const batch = relationships.slice(next, next + BATCH);
        next += BATCH;
        const args = batchArgs(batch, variant);
        // Planned at the last revision this client saw committed, as a caught-up replica would;
        // a conflict (the other batch in flight touched one of its resource objects) replans at
        // the revision the conflict names and retries, as the replica would once it applied it.
        for (;;) {
          const reply = (await redis.evalsha(sha, keys.length, ...keys, 'e1', String(planned), ...args)) as [
            string,
            string,
          ];
          planned = Math.max(planned, Number(reply[1]));
          if (reply[0] === 'ok') break;
          conflicts += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const seconds = (performance.now() - started) / 1000;
    const cpu = ((await redisCpuSeconds(redis)) - cpuBefore) / relationships.length;
    const total = (await usedMemory(redis)) - before;
    await redis.del(keys[3] as string);
    const versions = (await usedMemory(redis)) - before;
    const fields = await redis.hlen(keys[2] as string);
    const n = relationships.length;
    console.log(
      `| ${variant.name} | ${Math.round(n / seconds).toLocaleString('en-US')} | ${(cpu * 1e6).toFixed(2)} µs | ${(versions / n).toFixed(1)} B (${fields.toLocaleString('en-US')} fields) | ${((total - versions) / n).toFixed(1)} B | ${conflicts} |`,
    );
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

const dataset = generateGroupVisibility({ relationships: parseSize(values.size), seed: Number(values.seed) });
const relationships = [...dataset.relationships()];
console.log(
  `${relationships.length.toLocaleString('en-US')} group-visibility relationships in batches of ${BATCH}, ${IN_FLIGHT} in flight`,
);
console.log(
  '| version fields | relationships/s | Redis CPU per relationship | versions, per relationship | changelog kept whole, per relationship | retries after a conflict |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const variant of VARIANTS) await measure(variant, relationships);
