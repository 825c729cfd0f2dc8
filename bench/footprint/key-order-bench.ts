// The bulk load's radix key ordering alone, against another checkout's, alternating in one
// process over the same table (a policy directory's bulk file, appended as the load appends).
// Run: node --expose-gc --import tsx bench/footprint/key-order-bench.ts --policies DIR --other /base/server/src/store/row-order.ts [--rounds 7]
import { parseArgs } from 'node:util';
import { loadPolicySet, policyRelationshipChunks } from '../../server/src/policy/index.js';
import { RelationshipTable } from '../../server/src/store/relationship-table.js';
import { keyOrder } from '../../server/src/store/row-order.js';

const { values } = parseArgs({
  options: {
    policies: { type: 'string' },
    other: { type: 'string' },
    rounds: { type: 'string', default: '7' },
  },
});
if (values.policies === undefined || values.other === undefined) {
  process.stderr.write('usage: key-order-bench.ts --policies DIR --other PATH/row-order.ts [--rounds N]\n');
  process.exit(2);
}
const other = (await import(values.other)) as { keyOrder: typeof keyOrder };
const table = new RelationshipTable();
const rows: number[] = [];
for await (const chunk of policyRelationshipChunks(await loadPolicySet(values.policies))) {
  for (const r of chunk) rows.push(table.append(r));
}
const input = Int32Array.from(rows);
const cpuMs: Record<'this' | 'other', number[]> = { this: [], other: [] };
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, order] of [
    ['other', other.keyOrder],
    ['this', keyOrder],
  ] as const) {
    globalThis.gc?.();
    const start = process.cpuUsage();
    const out = order(table, input);
    const used = process.cpuUsage(start);
    cpuMs[name].push((used.user + used.system) / 1000);
    if (out.length !== input.length) throw new Error('lost rows');
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  JSON.stringify({
    rows: input.length,
    thisMedianMs: Math.round(median(cpuMs.this)),
    otherMedianMs: Math.round(median(cpuMs.other)),
    ratio: Number((median(cpuMs.this) / median(cpuMs.other)).toFixed(2)),
  }),
);
