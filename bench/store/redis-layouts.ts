// Redis memory per relationship of the store's two indexes under the current layout and under
// candidate bucketed layouts, to size a layout change before building it (issue 11's goal: under
// 200 B per relationship including one compiled snapshot). Each layout loads the group-visibility
// dataset into a fresh redis-server on a free loopback port with pipelined ZADDs of the store's
// own member forms (redis-layout.ts): no scripts, no changelog, no revision, only the indexes.
//   current:  by-resource = one sorted set of every relationship (today's `…:rels`);
//             by-subject  = 65,521 buckets by subject object (today's `…:s:<b>`);
//   buckets:  by-resource = 65,521 buckets by resource object `type:id` (small, so listpacks);
//             by-subject  = the same, each split in K sub-buckets by resource object (K=1: today's).
// `--listpack N` sets zset-max-listpack-entries (Redis's default 128) for every layout.
//
//   npx tsx bench/store/redis-layouts.ts --size 1m [--k 1,4,8] [--listpack 128]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { Relationship } from '../../server/src/model/relationship.js';
import {
  resourceMember,
  SUBJECT_BUCKETS,
  subjectBucketOf,
  subjectMember,
} from '../../server/src/store/redis/redis-layout.js';
import { RedisServer } from '../../test/support/redis-server.js';
import { generateGroupVisibility } from '../datasets/group-visibility.js';
import { parseSize } from '../engine/bench-support.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1m' },
    seed: { type: 'string', default: '1' },
    k: { type: 'string', default: '1,4,8' },
    listpack: { type: 'string', default: '128' },
  },
});

interface Layout {
  readonly name: string;
  readonly resourceKey: (r: Relationship) => string;
  readonly subjectKey: (r: Relationship) => string;
}

const objectOf = (r: Relationship): string => `${r.resource.type}:${r.resource.id}`;
const subjectObjectOf = (r: Relationship): string => `${r.subject.type}:${r.subject.id}`;

function layouts(ks: readonly number[]): Layout[] {
  const current: Layout = {
    name: 'current: one by-resource set, by-subject buckets',
    resourceKey: () => 'rels',
    subjectKey: (r) => `s:${subjectBucketOf(subjectObjectOf(r))}`,
  };
  return [
    current,
    ...ks.map(
      (k): Layout => ({
        name: `buckets: by-resource buckets, by-subject buckets × ${k}`,
        resourceKey: (r) => `r:${subjectBucketOf(objectOf(r))}`,
        subjectKey: (r) =>
          `s:${subjectBucketOf(subjectObjectOf(r)) * k + (subjectBucketOf(objectOf(r)) % k)}`,
      }),
    ),
  ];
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

async function measure(layout: Layout, relationships: readonly Relationship[]): Promise<void> {
  const server = await RedisServer.start({ config: { 'zset-max-listpack-entries': values.listpack } });
  const redis = new Redis(server.port, '127.0.0.1');
  try {
    const before = await usedMemory(redis);
    const tag = '{gatehouse:bench}:';
    for (let i = 0; i < relationships.length; i += 5000) {
      const pipeline = redis.pipeline();
      for (const r of relationships.slice(i, i + 5000)) {
        pipeline.zadd(tag + layout.resourceKey(r), 0, resourceMember(r));
        pipeline.zadd(tag + layout.subjectKey(r), 0, subjectMember(r));
      }
      await pipeline.exec();
    }
    const bytes = (await usedMemory(redis)) - before;
    const keys = await redis.dbsize();
    console.log(
      `| ${layout.name} | ${keys.toLocaleString('en-US')} | ${(bytes / relationships.length).toFixed(1)} |`,
    );
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

const dataset = generateGroupVisibility({ relationships: parseSize(values.size), seed: Number(values.seed) });
const relationships = [...dataset.relationships()];
const ks = values.k.split(',').map(Number);
console.log(
  `${relationships.length.toLocaleString('en-US')} group-visibility relationships, ${SUBJECT_BUCKETS} buckets, zset-max-listpack-entries ${values.listpack}`,
);
console.log('| layout | keys | indexes, B per relationship |\n| --- | ---: | ---: |');
for (const layout of layouts(ks)) await measure(layout, relationships);
