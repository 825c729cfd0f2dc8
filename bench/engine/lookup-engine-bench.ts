// LookupResources in-process, this tree's engine against a baseline checkout's, in one process
// with rounds alternated: CPU ms per lookup reading every page of 1,000, as the gRPC stream does
// (lookupResourcePages) and as an HTTP client does (lookupResources with cursors), for users who
// see a few thousand documents and for an org admin (every document).
//
//   git archive main | (mkdir -p /tmp/gh-main && tar -x -C /tmp/gh-main)
//   ln -sfn "$PWD/node_modules" /tmp/gh-main/node_modules
//   npx tsx bench/engine/lookup-engine-bench.ts --baseline /tmp/gh-main [--size M] [--rounds 5]

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Engine } from '../../server/src/engine/types.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { parseSize } from '../datasets/dataset.js';
import { createDataset } from '../datasets/index.js';
import type { Question } from '../harness/types.js';
import { compileDatasetSchema } from '../suite/gatehouse-engine.js';
import { lookupQuestions } from '../suite/in-process-phase.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    size: { type: 'string', default: 'M' },
    rounds: { type: 'string', default: '5' },
    subjects: { type: 'string', default: '20' },
  },
});
const rounds = Number(values.rounds);

const dataset = await createDataset('group-visibility', { relationships: parseSize(values.size!), seed: 42 });
const schema = compileDatasetSchema(dataset);
const questions = dataset.sampleChecks(10_000);
const users = lookupQuestions(dataset, questions, Number(values.subjects));
const admins = dataset.visibilityFacts?.().admins ?? new Set<string>();
const admin = questions.find((q) => admins.has(q.subjectId));

type EngineModule = typeof import('../../server/src/engine/index.js');
type GraphModule = typeof import('../../server/src/graph/index.js');

async function engineFrom(root: string): Promise<Engine> {
  const url = (p: string): string => pathToFileURL(resolve(root, p)).href;
  const { createEngine } = (await import(url('server/src/engine/index.ts'))) as EngineModule;
  const { GraphIndex } = (await import(url('server/src/graph/index.ts'))) as GraphModule;
  function* relationships(): Iterable<ReturnType<typeof parseRelationship>> {
    for (const r of dataset.relationships()) yield parseRelationship(r);
  }
  return createEngine(schema, GraphIndex.build(schema, relationships(), 0));
}

const request = (q: Question, cursor?: string) => ({
  resourceType: q.resourceType,
  permission: q.permission,
  subject: { type: q.subjectType, id: q.subjectId },
  limit: 1000,
  cursor,
});

const ways = {
  stream: (e: Engine, q: Question): number => {
    let n = 0;
    for (const page of e.lookupResourcePages(request(q))) n += page.resourceIds.length;
    return n;
  },
  paged: (e: Engine, q: Question): number => {
    let n = 0;
    let cursor: string | undefined;
    do {
      const page = e.lookupResources(request(q, cursor));
      n += page.resourceIds.length;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return n;
  },
};

/** CPU ms per lookup over `subjects`, each looked up `times` times. */
function time(e: Engine, way: keyof typeof ways, subjects: readonly Question[], times: number): number {
  const c0 = process.cpuUsage();
  let ids = 0;
  for (let t = 0; t < times; t++) for (const q of subjects) ids += ways[way](e, q);
  const used = process.cpuUsage(c0);
  if (ids === 0) throw new Error('no ids: the bench is not looking anything up');
  return (used.user + used.system) / 1000 / (times * subjects.length);
}

const here = resolve(import.meta.dirname, '../..');
const variants: [string, Engine][] = [];
if (values.baseline !== undefined) variants.push(['baseline', await engineFrom(values.baseline)]);
variants.push(['this tree', await engineFrom(here)]);

const cases: [string, keyof typeof ways, readonly Question[], number][] = [
  [`${users.length} users, stream`, 'stream', users, 3],
  [`${users.length} users, paged`, 'paged', users, 3],
];
if (admin !== undefined) {
  cases.push(['an admin, stream', 'stream', [admin], 3], ['an admin, paged', 'paged', [admin], 3]);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [, e] of variants) for (const [, way, subjects] of cases) time(e, way, subjects, 1); // warm-up
console.log(
  `LookupResources in-process, ${dataset.relationshipCount} relationships, pages of 1000, ${rounds} rounds alternated (CPU ms per lookup, median)`,
);
for (const [label, way, subjects, times] of cases) {
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const [name, e] = variants[(k + r) % variants.length]!;
      samples.get(name)!.push(time(e, way, subjects, times));
    }
  }
  const line = variants.map(([name]) => `${name} ${median(samples.get(name)!).toFixed(2)} ms`).join('   ');
  const ratio =
    variants.length === 2
      ? `   x${(median(samples.get(variants[0]![0])!) / median(samples.get(variants[1]![0])!)).toFixed(2)} faster`
      : '';
  console.log(`${label.padEnd(22)} ${line}${ratio}`);
}
