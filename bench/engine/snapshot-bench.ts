// Compiled graph snapshot vs rebuild: time to build a GraphIndex from relationships, to encode it,
// and to decode it from its snapshot chunks, on the group-visibility dataset; every decoded graph
// must answer the dataset's sampled checks as expected.
// Run: node --expose-gc --import tsx bench/engine/snapshot-bench.ts --size 1m [--runs 3]
import { parseArgs } from 'node:util';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { decodeGraphSnapshot, encodeGraphSnapshot } from '../../server/src/graph/snapshot-codec.js';
import type { Relationship } from '../../server/src/model/relationship.js';
import { generateGroupVisibility } from '../datasets/group-visibility.js';
import { gc, parseSize } from './bench-support.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1m' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
  },
});
const size = parseSize(values.size);
const runs = Number(values.runs);
const dataset = generateGroupVisibility({ relationships: size, seed: Number(values.seed) });
const schema = dataset.schema;
const relationships: Relationship[] = [...dataset.relationships()];
const questions = dataset.sampleChecks(2_000);

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const timed = <T>(fn: () => T): [T, number] => {
  const t0 = process.hrtime.bigint();
  const out = fn();
  return [out, Number(process.hrtime.bigint() - t0) / 1e6];
};

function verify(graph: GraphIndex): void {
  const engine = createEngine(schema, graph);
  for (const q of questions) {
    if (engine.check(q) !== q.expected) throw new Error(`decoded graph answers ${JSON.stringify(q)} wrongly`);
  }
}

const build: number[] = [];
const encode: number[] = [];
const decode: number[] = [];
let bytes = 0;
let chunkCount = 0;
for (let r = 0; r < runs; r++) {
  gc();
  const [graph, b] = timed(() => GraphIndex.build(schema, relationships, 1));
  build.push(b);
  gc();
  const [chunks, e] = timed(() => encodeGraphSnapshot(graph, schema.hash));
  encode.push(e);
  bytes = chunks.reduce((s, c) => s + c.length, 0);
  chunkCount = chunks.length;
  gc();
  const [decoded, d] = timed(() => decodeGraphSnapshot(schema, chunks));
  decode.push(d);
  verify(decoded);
}
const rels = relationships.length;
const row = {
  relationships: rels,
  buildMs: Math.round(median(build)),
  encodeMs: Math.round(median(encode)),
  decodeMs: Math.round(median(decode)),
  buildOverDecode: Number((median(build) / median(decode)).toFixed(1)),
  snapshotBytesPerRel: Number((bytes / rels).toFixed(1)),
  chunks: chunkCount,
};
console.log(JSON.stringify(row));
