// What conditions cost, in one process, rounds alternated (CPU ns per call):
// 1. unconditional checks (group-visibility dataset, `Engine.check`) on the engine of a baseline
//    checkout (before conditions) against this tree's: must be no slower;
// 2. one condition evaluation (`ConditionProgram.evaluate`, values already converted), for
//    `ip.in_cidr(cidr)` and `tier >= required`: target < 2 µs;
// 3. a whole check answered through the three-valued path (a viewer relationship carrying the
//    condition, context given) against the same check on an unconditional relationship.
//
//   git archive 946c0e3 | (mkdir -p /tmp/gh-before-conditions && tar -x -C /tmp/gh-before-conditions)
//   ln -sfn "$PWD/node_modules" /tmp/gh-before-conditions/node_modules
//   npx tsx bench/engine/conditions-bench.ts --baseline /tmp/gh-before-conditions [--calls 200000] [--rounds 7]

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CheckRequest, Engine } from '../../server/src/engine/types.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compilePolicySet } from '../../server/src/policy/index.js';
import { compileCondition } from '../../server/src/schema/cel-condition.js';
import type { Schema } from '../../server/src/schema/schema.js';
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
const here = resolve(import.meta.dirname, '../..');

type EngineModule = typeof import('../../server/src/engine/create-engine.js');
type GraphModule = typeof import('../../server/src/graph/graph-index.js');

async function engineFrom(root: string, schema: Schema, relationships: readonly string[]): Promise<Engine> {
  const url = (p: string): string => pathToFileURL(resolve(root, p)).href;
  const { createEngine } = (await import(url('server/src/engine/create-engine.ts'))) as EngineModule;
  const { GraphIndex } = (await import(url('server/src/graph/graph-index.ts'))) as GraphModule;
  return createEngine(
    schema,
    GraphIndex.build(
      schema,
      relationships.map((r) => parseRelationship(r)),
      1,
    ),
  );
}

/** CPU ns per call of `f` over `n` calls; `f` returns a count so the work cannot be dropped. */
function time(f: (i: number) => number, n: number): number {
  let sink = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) sink += f(i);
  const used = process.cpuUsage(c0);
  if (sink === 0) throw new Error('nothing was true: the bench is not measuring the intended path');
  return ((used.user + used.system) * 1000) / n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function runRounds(variants: readonly [string, (i: number) => number][], n: number): void {
  for (const [, f] of variants) time(f, Math.ceil(n / 10)); // warm-up
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const ratios = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    const round = new Map<string, number>();
    for (let k = 0; k < variants.length; k++) {
      const [name, f] = variants[(k + r) % variants.length]!;
      round.set(name, time(f, n));
    }
    const reference = round.get(variants[0]![0])!;
    for (const [name, ns] of round) {
      samples.get(name)!.push(ns);
      ratios.get(name)!.push(ns / reference);
    }
  }
  for (const [name] of variants) {
    console.log(
      `  ${name.padEnd(44)} ${median(samples.get(name)!).toFixed(0).padStart(7)} ns   x${median(ratios.get(name)!).toFixed(3)}   rounds: ${samples
        .get(name)!
        .map((x) => x.toFixed(0))
        .join(' ')}`,
    );
  }
}

// 1. Unconditional checks, before and after.
const dataset = await createDataset('group-visibility', { relationships: parseSize(values.size!), seed: 7 });
const schema = compileDatasetSchema(dataset);
const data = [...dataset.relationships()];
const questions: CheckRequest[] = dataset.sampleChecks(1000).map((q) => ({
  resource: { type: q.resourceType, id: q.resourceId },
  permission: q.permission,
  subject: { type: q.subjectType, id: q.subjectId, relation: q.subjectRelation },
}));
const checkWith =
  (engine: Engine) =>
  (i: number): number =>
    engine.check(questions[i % questions.length]!) ? 1 : 0;
const unconditional: [string, (i: number) => number][] = [];
if (values.baseline !== undefined)
  unconditional.push(['before conditions', checkWith(await engineFrom(values.baseline, schema, data))]);
unconditional.push([
  'with conditions (no relationship has one)',
  checkWith(await engineFrom(here, schema, data)),
]);
console.log(`1. Engine.check, ${data.length} relationships, ${calls} calls x ${rounds} rounds`);
runRounds(unconditional, calls);

// 2. One condition evaluation.
const policy = compilePolicySet([
  {
    path: 'schema.yaml',
    content: `kind: schema
conditions:
  ip_allowlist:
    parameters: { cidr: string, ip: ipaddress }
    expression: ip.in_cidr(cidr)
  tier_at_least:
    parameters: { tier: int, required: int }
    expression: tier >= required
types:
  user: {}
  doc:
    relations:
      viewer: user or user with ip_allowlist or user with tier_at_least
    permissions:
      view: viewer
`,
  },
]);
const evaluation = (name: string, stored: Record<string, unknown>, context: Record<string, unknown>) => {
  const program = compileCondition(policy.schema.conditions!.get(name)!);
  if (Array.isArray(program)) throw new Error(program[0]!.message);
  const s = program.bind(stored);
  const c = program.bind(context);
  return (): number => (program.evaluate(s, c) === true ? 1 : 0);
};
console.log(`2. One condition evaluation (values converted), ${calls} calls x ${rounds} rounds`);
runRounds(
  [
    ['tier >= required', evaluation('tier_at_least', { required: 2 }, { tier: 3 })],
    ['ip.in_cidr(cidr)', evaluation('ip_allowlist', { cidr: '10.0.0.0/8' }, { ip: '10.1.2.3' })],
  ],
  calls,
);

// 3. A whole check through the three-valued path against the same check without a condition.
const plain = await engineFrom(here, policy.schema, ['doc:1#viewer@user:ann']);
const conditional = await engineFrom(here, policy.schema, [
  'doc:1#viewer@user:ann[tier_at_least:{"required":2}]',
]);
const ask: CheckRequest = {
  resource: { type: 'doc', id: '1' },
  permission: 'view',
  subject: { type: 'user', id: 'ann' },
  context: { tier: 3 },
};
console.log(`3. Engine.check on one viewer relationship, ${Math.ceil(calls / 4)} calls x ${rounds} rounds`);
runRounds(
  [
    ['unconditional relationship', () => (plain.check(ask) ? 1 : 0)],
    ['relationship with tier_at_least, context given', () => (conditional.check(ask) ? 1 : 0)],
  ],
  Math.ceil(calls / 4),
);
process.exit(0);
