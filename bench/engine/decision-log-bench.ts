// Whether decision logs cost the check path anything when off: GatehouseService.checkNow timed in
// one process, rounds alternated, for the service of a baseline checkout (the commit before
// decision logs) against this tree's with logging off, and this tree's with logging on (rate 0:
// the sampling test only; rate 1: every line explained and queued to a discarding sink).
//
//   git archive seam | (mkdir -p /tmp/gh-baseline && tar -x -C /tmp/gh-baseline)
//   ln -sfn "$PWD/node_modules" /tmp/gh-baseline/node_modules
//   npx tsx bench/engine/decision-log-bench.ts --baseline /tmp/gh-baseline [--calls 200000] [--rounds 7]

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { DecisionLog } from '../../server/src/observability/decision-log.js';
import type { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import type { CheckParams } from '../../server/src/service/requests.js';
import { parseSize } from '../datasets/dataset.js';
import { createDataset } from '../datasets/index.js';
import { compileDatasetSchema } from '../suite/gatehouse-engine.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    size: { type: 'string', default: '10000' },
    calls: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '7' },
  },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);

const dataset = await createDataset('group-visibility', { relationships: parseSize(values.size!), seed: 7 });
const schema = compileDatasetSchema(dataset);
const relationships = [...dataset.relationships()].map((r) => parseRelationship(r));
const questions: CheckParams[] = dataset.sampleChecks(1000).map((q) => ({
  consistency: { kind: 'minimize_latency' },
  resource: { type: q.resourceType, id: q.resourceId },
  permission: q.permission,
  subject: { type: q.subjectType, id: q.subjectId, relation: q.subjectRelation },
}));

type ServiceModule = typeof import('../../server/src/service/gatehouse-service.js');
type StoreModule = typeof import('../../server/src/store/memory-store.js');

async function serviceFrom(root: string, options: Record<string, unknown> = {}): Promise<GatehouseService> {
  const url = (p: string): string => pathToFileURL(resolve(root, p)).href;
  const { GatehouseService: Service } = (await import(
    url('server/src/service/gatehouse-service.ts')
  )) as ServiceModule;
  const { MemoryStore } = (await import(url('server/src/store/memory-store.ts'))) as StoreModule;
  return Service.create({
    schema,
    store: MemoryStore.withRelationships(relationships),
    limits: DEFAULT_LIMITS,
    ...options,
  });
}

const discard = { write: async (): Promise<void> => undefined, close: async (): Promise<void> => undefined };
const here = resolve(import.meta.dirname, '../..');
const variants: [string, GatehouseService][] = [];
if (values.baseline !== undefined) variants.push(['baseline (before)', await serviceFrom(values.baseline)]);
variants.push(['logs off', await serviceFrom(here)]);
variants.push([
  'logs on, rate 0',
  await serviceFrom(here, {
    decisionLog: new DecisionLog({ sink: discard, sampleRate: 0, alwaysLogDenials: false }),
  }),
]);
variants.push([
  'logs on, rate 1',
  await serviceFrom(here, { decisionLog: new DecisionLog({ sink: discard, capacity: 1_000_000 }) }),
]);

/** CPU ns per checkNow call (minimize_latency: answered synchronously). */
async function time(service: GatehouseService, n: number): Promise<number> {
  const ctx = { deadline: Number.MAX_SAFE_INTEGER };
  let allowed = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const r = service.checkNow(questions[i % questions.length]!, ctx) as { allowed: boolean };
    if (r.allowed) allowed++;
  }
  const used = process.cpuUsage(c0);
  if (allowed === 0) throw new Error('no allowed answers: the bench is not checking anything');
  // Let the logging variants write their queue between rounds, off the clock.
  await new Promise((r) => setImmediate(r));
  return ((used.user + used.system) * 1000) / n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [, s] of variants) await time(s, Math.ceil(calls / 10)); // warm-up
const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
const ratios = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (let r = 0; r < rounds; r++) {
  const round = new Map<string, number>();
  // Rotate the order each round so no variant always runs first.
  for (let k = 0; k < variants.length; k++) {
    const [name, service] = variants[(k + r) % variants.length]!;
    round.set(name, await time(service, calls));
  }
  const reference = round.get(variants[0]![0])!;
  for (const [name, ns] of round) {
    samples.get(name)!.push(ns);
    ratios.get(name)!.push(ns / reference);
  }
}
console.log(
  `checkNow, ${dataset.relationshipCount} relationships, ${calls} calls x ${rounds} rounds (CPU ns/call, median; ratio: median of per-round ratios to ${variants[0]![0]})`,
);
for (const [name] of variants) {
  console.log(
    `${name.padEnd(20)} ${median(samples.get(name)!).toFixed(0).padStart(6)} ns   x${median(ratios.get(name)!).toFixed(3)}   rounds: ${samples
      .get(name)!
      .map((x) => x.toFixed(0))
      .join(' ')}`,
  );
}
for (const [, s] of variants) s.close();
process.exit(0);
