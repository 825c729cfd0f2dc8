// Check throughput and latency on the graph a `serve` replica builds from the memory store (the
// store's numbering shared, built from its rows as numbers) against a graph built on its own from
// the same relationships, in one process, rounds alternating: the shared representation must
// not cost the check path anything.
// Run: node --expose-gc --import tsx bench/footprint/footprint-checks.ts --size 1m [--rounds 5] [--questions 100000]
import { parseArgs } from 'node:util';
import { createEngine } from '../../server/src/engine/create-engine.js';
import type { CheckRequest, Engine } from '../../server/src/engine/types.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { MemoryStore } from '../../server/src/store/memory-store.js';
import { generateGroupVisibility } from '../datasets/group-visibility.js';
import { gc, parseSize } from '../engine/bench-support.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1m' },
    seed: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    questions: { type: 'string', default: '100000' },
  },
});

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Checks per CPU-second over one pass, and p50/p99 of individually timed checks (ns). */
function measure(
  engine: Engine,
  questions: readonly CheckRequest[],
): { perCpuS: number; p50: number; p99: number } {
  let sink = 0;
  const c0 = process.cpuUsage();
  for (const q of questions) if (engine.check(q)) sink++;
  const used = process.cpuUsage(c0);
  const samples = new Float64Array(questions.length);
  for (let i = 0; i < questions.length; i++) {
    const a = process.hrtime.bigint();
    if (engine.check(questions[i]!)) sink++;
    samples[i] = Number(process.hrtime.bigint() - a);
  }
  samples.sort();
  if (sink < 0) console.log(sink);
  return {
    perCpuS: questions.length / ((used.user + used.system) / 1e6),
    p50: samples[Math.floor(samples.length * 0.5)]!,
    p99: samples[Math.floor(samples.length * 0.99)]!,
  };
}

const dataset = generateGroupVisibility({
  relationships: parseSize(values.size!),
  seed: Number(values.seed),
});
const relationships = [...dataset.relationships()];
const own = GraphIndex.build(dataset.schema, relationships, 1);
const store = MemoryStore.withRelationships(relationships);
const shared = GraphIndex.fromNumbered(dataset.schema, store.objectIds, (v) => store.forEachNumbered(v));
relationships.length = 0;
gc();
const questions = dataset.sampleChecks(Number(values.questions), { allowedFraction: 0.5 });
const engines = { own: createEngine(dataset.schema, own), shared: createEngine(dataset.schema, shared) };
for (const [name, engine] of Object.entries(engines)) {
  const wrong = questions.filter((q) => engine.check(q) !== q.expected).length;
  if (wrong > 0) throw new Error(`${name}: ${wrong} answers disagree with the dataset's model`);
}
const results: Record<string, { perCpuS: number; p50: number; p99: number }[]> = { own: [], shared: [] };
for (let r = 0; r < Number(values.rounds); r++) {
  for (const name of r % 2 === 0 ? ['own', 'shared'] : ['shared', 'own']) {
    results[name]!.push(measure(engines[name as 'own' | 'shared'], questions));
  }
}
const summary = Object.fromEntries(
  Object.entries(results).map(([name, rs]) => [
    name,
    {
      checksPerCpuS: Math.round(median(rs.map((x) => x.perCpuS))),
      p50Us: Number((median(rs.map((x) => x.p50)) / 1000).toFixed(2)),
      p99Us: Number((median(rs.map((x) => x.p99)) / 1000).toFixed(2)),
    },
  ]),
);
console.log(
  JSON.stringify({ relationships: own.relationshipCount, questions: questions.length, ...summary }),
);
