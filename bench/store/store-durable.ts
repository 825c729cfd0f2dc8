// Write path with and without --data-dir: single-relationship writes from C concurrent writers
// into a MemoryStore and into a DurableStore (write-ahead log, ack after fsync, group commit) in
// a temp dir on the same disk; reports writes/s, median and p99 acknowledgement latency, and
// writes per fsync. Rounds alternate memory/durable; medians over rounds.
//
// Run: node --import tsx bench/store/store-durable.ts [--writes 4000] [--concurrency 1,16] [--rounds 3]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { DurableStore } from '../../server/src/store/durable/durable-store.js';
import type { Store } from '../../server/src/store/index.js';
import { MemoryStore } from '../../server/src/store/index.js';

const { values } = parseArgs({
  options: {
    writes: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '1,16' },
    rounds: { type: 'string', default: '3' },
  },
});
const WRITES = Number(values.writes);
const ROUNDS = Number(values.rounds);

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? 0;
};

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
  perSync: number;
}

async function run(store: Store, concurrency: number, syncs: () => number): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  const writer = async (): Promise<void> => {
    while (next < WRITES) {
      const i = next++;
      const t = performance.now();
      await store.write([
        { operation: 'touch', relationship: parseRelationship(`doc:d${i}#viewer@user:u${i % 97}`) },
      ]);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, writer));
  const seconds = (performance.now() - start) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    perSecond: WRITES / seconds,
    p50: median(sorted),
    p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
    perSync: syncs() === 0 ? 0 : WRITES / syncs(),
  };
}

const rows: string[] = [];
for (const concurrency of values.concurrency.split(',').map(Number)) {
  const results: Record<'memory' | 'durable', Run[]> = { memory: [], durable: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const memory = new MemoryStore();
    results.memory.push(await run(memory, concurrency, () => 0));
    await memory.close();
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-durable-'));
    const { store } = await DurableStore.open({ dataDir: dir });
    results.durable.push(await run(store, concurrency, () => store.syncs));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
  for (const kind of ['memory', 'durable'] as const) {
    const m = (f: (x: Run) => number): number => median(results[kind].map(f));
    rows.push(
      `| ${kind} | ${concurrency} | ${m((x) => x.perSecond).toFixed(0)} | ${m((x) => x.p50).toFixed(3)} | ${m((x) => x.p99).toFixed(3)} | ${kind === 'memory' ? '—' : m((x) => x.perSync).toFixed(1)} |`,
    );
  }
}
console.log(`writes=${WRITES} rounds=${ROUNDS} (medians)`);
console.log('| store | writers | writes/s | p50 ms | p99 ms | writes per fsync |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
