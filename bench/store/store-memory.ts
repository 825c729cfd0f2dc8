// MemoryStore memory and speed on the group-visibility dataset: loads N relationships the way
// `gatehouse serve` receives them from the bench loader (WriteRelationships of 10,000 touches per
// call, one revision each, a watcher attached like the graph replica's), then reports heap +
// array buffers and RSS per relationship after forced collections, write throughput, and read
// timings by resource, by subject and by paging through a whole resource type.
//
// Run: node --expose-gc --import tsx bench/store/store-memory.ts --size 1m [--seed 1]
//      [--store path/to/store/index.ts]   (another MemoryStore build, for before/after runs)
// One process measures one store: run A and B alternately and compare medians.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Relationship } from '../../server/src/model/relationship.js';
import type { ChangeSet, RelationshipUpdate, Store } from '../../server/src/store/index.js';
import { generateGroupVisibility } from '../datasets/group-visibility.js';
import { gc, parseSize } from '../engine/bench-support.js';

/** What the bench loader sends per call (it starts serve with --max-write-updates 10000). */
const BATCH = 10_000;

/** The memory store's synchronous listener: `subscribe` now, `watch(after, listener)` in older builds (--store A/B). */
type Listen = (after: number, listener: (change: ChangeSet) => void) => unknown;
interface StoreModule {
  MemoryStore: new () => Store & { subscribe?: Listen };
}

function memory(): { heap: number; rss: number } {
  gc(3);
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The updates a WriteRelationships call hands the store: fresh objects decoded from the request. */
function touch(r: Relationship): RelationshipUpdate {
  const subject =
    r.subject.relation === undefined
      ? { type: r.subject.type, id: r.subject.id }
      : { type: r.subject.type, id: r.subject.id, relation: r.subject.relation };
  return {
    operation: 'touch',
    relationship: { resource: { type: r.resource.type, id: r.resource.id }, relation: r.relation, subject },
  };
}

/** Median microseconds per read of the first page (limit 100) for each filter. */
async function timeReads(
  store: Store,
  filters: readonly Parameters<Store['read']>[0][],
): Promise<{ micros: number; rows: number }> {
  const samples: number[] = [];
  let rows = 0;
  for (const filter of filters) {
    const t0 = process.hrtime.bigint();
    const page = await store.read(filter, { limit: 100 });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
    rows += page.relationships.length;
  }
  return { micros: median(samples), rows };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '100k' },
      seed: { type: 'string', default: '1' },
      store: { type: 'string' },
    },
  });
  const size = parseSize(values.size);
  const storePath = values.store ?? new URL('../../server/src/store/index.ts', import.meta.url).pathname;
  const { MemoryStore } = (await import(pathToFileURL(storePath).href)) as StoreModule;
  const dataset = generateGroupVisibility({ relationships: size, seed: Number(values.seed) });

  const before = memory();
  const store = new MemoryStore();
  // The graph replica watches every commit; a listener that keeps nothing stands in for it.
  let delivered = 0;
  const listen = (store.subscribe ?? (store.watch as unknown as Listen)).bind(store);
  listen(0, (change) => {
    delivered += change.changes.length;
  });

  let batch: RelationshipUpdate[] = [];
  let loaded = 0;
  let writeNs = 0n;
  let writeCpuMicros = 0;
  const flush = async (): Promise<void> => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await store.write(batch);
    writeNs += process.hrtime.bigint() - t0;
    const used = process.cpuUsage(c0);
    writeCpuMicros += used.user + used.system;
    loaded += batch.length;
    batch = [];
  };
  for (const r of dataset.relationships()) {
    batch.push(touch(r));
    if (batch.length === BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  const after = memory();
  if (delivered !== loaded) throw new Error(`the watcher saw ${delivered} inserts of ${loaded}`);

  const probes = 2000;
  const byResource = await timeReads(
    store,
    Array.from({ length: probes }, (_, i) => ({
      resourceType: 'document',
      resourceId: `d${(i * 7919) % dataset.documents}`,
    })),
  );
  const bySubject = await timeReads(
    store,
    Array.from({ length: probes }, (_, i) => ({
      subjectType: 'user',
      subjectId: `u${(i * 7919) % dataset.users}`,
    })),
  );
  let paged = 0;
  let cursor: string | undefined;
  const t0 = process.hrtime.bigint();
  do {
    const page = await store.read({ resourceType: 'group' }, { limit: 1000, cursor });
    paged += page.relationships.length;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const pageSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const perRel = (bytes: number): string => (bytes / loaded).toFixed(0);
  const result = {
    store: values.store ?? 'server/src/store',
    relationships: loaded,
    revision: await store.revision(),
    heapBytesPerRel: Number(perRel(after.heap - before.heap)),
    rssBytesPerRel: Number(perRel(after.rss - before.rss)),
    writesPerSec: Math.round(loaded / (Number(writeNs) / 1e9)),
    // By this process's CPU time: steadier than the wall clock on a shared machine.
    writesPerCpuSec: Math.round(loaded / (writeCpuMicros / 1e6)),
    readByResourceMicros: Number(byResource.micros.toFixed(1)),
    readBySubjectMicros: Number(bySubject.micros.toFixed(1)),
    pagedGroupRowsPerSec: Math.round(paged / pageSeconds),
    pagedRows: paged,
  };
  console.log(JSON.stringify(result));
  await store.close();
}

await main();
