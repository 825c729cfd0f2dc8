// The latency of one dependent read from memory on this machine, the floor under a cold check.
// A cold check (bench/engine/engine-bench.ts) asks about an object nothing has touched lately;
// each step that needs the result of the previous one (id slot → the object's row → its list)
// waits for a cache miss, and no code can make that chain shorter than its length × this figure.
//
// A pointer chase over a random cycle of cache lines in one Int32Array: each read's address is
// the previous read's value, so the CPU cannot overlap them. `--chains 2` runs two independent
// chases in one loop, to show how much two independent misses overlap (the two id lookups).
// Run: GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node --import tsx bench/engine/memory-latency.ts
import os from 'node:os';
import { parseArgs } from 'node:util';

const LINE_INTS = 16; // 64-byte cache lines

/** A random single cycle through `lines` cache lines (Sattolo's algorithm), seeded. */
function chaseTable(bytes: number, seed: number): Int32Array {
  const lines = Math.floor(bytes / 64);
  const order = new Int32Array(lines);
  for (let i = 0; i < lines; i++) order[i] = i;
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  for (let i = lines - 1; i > 0; i--) {
    const j = Math.floor(next() * i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const table = new Int32Array(lines * LINE_INTS);
  for (let i = 0; i < lines; i++) table[order[i]! * LINE_INTS] = order[(i + 1) % lines]! * LINE_INTS;
  return table;
}

/** Nanoseconds per loop step of `chains` independent chases, each `steps` long. */
function chase(table: Int32Array, steps: number, chains: number): number {
  let a = 0;
  let b = LINE_INTS * 7;
  const t0 = process.hrtime.bigint();
  if (chains === 1) {
    for (let i = 0; i < steps; i++) a = table[a]!;
  } else {
    for (let i = 0; i < steps; i++) {
      a = table[a]!;
      b = table[b]!;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0) / steps;
  if (a + b === -1) console.log(a, b); // keep the loads observable
  return ns;
}

const median = (xs: number[]): number => xs.sort((x, y) => x - y)[xs.length >> 1]!;

function main(): void {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '4,32,512' },
      steps: { type: 'string', default: '4000000' },
      rounds: { type: 'string', default: '5' },
    },
  });
  const steps = Number(values.steps);
  const rows = [];
  for (const mib of values.sizes!.split(',').map(Number)) {
    const table = chaseTable(mib * 2 ** 20, 0x9e3779b9);
    chase(table, steps >> 2, 1); // warm up the JIT and the page tables
    const one: number[] = [];
    const two: number[] = [];
    for (let r = 0; r < Number(values.rounds); r++) {
      one.push(chase(table, steps, 1));
      two.push(chase(table, steps, 2));
    }
    rows.push({
      mib,
      dependentReadNs: +median(one).toFixed(1),
      twoIndependentReadsNs: +median(two).toFixed(1),
    });
  }
  console.log(
    JSON.stringify({ rows, node: process.version, loadAverage: os.loadavg().map((x) => +x.toFixed(1)) }),
  );
}

main();
