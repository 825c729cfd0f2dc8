// Where `gatehouse serve`'s start-up time and memory go, stage by stage, in one process: policy
// load, streaming the data files into the memory store, the replica's graph build. Each stage's
// CPU time, and the heap + array buffers it leaves behind after a full GC.
// Run: node --expose-gc --import tsx bench/footprint/footprint-stages.ts --policies DIR
import { parseArgs } from 'node:util';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { loadPolicySet, policyRelationshipChunks } from '../../server/src/policy/index.js';
import { MemoryStore } from '../../server/src/store/memory-store.js';

const { values } = parseArgs({ options: { policies: { type: 'string' } } });
if (values.policies === undefined || globalThis.gc === undefined) {
  process.stderr.write('usage: node --expose-gc --import tsx footprint-stages.ts --policies DIR\n');
  process.exit(2);
}
const gc = globalThis.gc;

function retainedMb(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

const stages: {
  stage: string;
  cpuS: number;
  retainedMb: number;
  rssMb: number;
  heapTotalMb: number;
  arrayBuffersMb: number;
}[] = [];
let before = retainedMb();
async function stage<T>(name: string, run: () => Promise<T> | T): Promise<T> {
  const cpu = process.cpuUsage();
  const out = await run();
  const used = process.cpuUsage(cpu);
  const now = retainedMb();
  stages.push({
    stage: name,
    cpuS: Number(((used.user + used.system) / 1e6).toFixed(2)),
    retainedMb: Math.round(now - before),
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    heapTotalMb: Math.round(process.memoryUsage().heapTotal / 2 ** 20),
    arrayBuffersMb: Math.round(process.memoryUsage().arrayBuffers / 2 ** 20),
  });
  before = now;
  return out;
}

const set = await stage('load policy set', () => loadPolicySet(values.policies!));
const store = await stage('stream data into the memory store', () =>
  MemoryStore.withRelationshipChunks(policyRelationshipChunks(set)),
);
const graph = await stage("build the graph from the store's rows (as the replica does)", async () => {
  return GraphIndex.fromNumbered(set.schema, store.objectIds, (v) => store.forEachNumbered(v));
});
console.table(stages);
console.log(JSON.stringify({ relationships: graph.relationshipCount, storeSize: store.size, stages }));
