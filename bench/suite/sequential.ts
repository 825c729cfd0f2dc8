// Times a call made back to back on this thread (concurrency 1) — for systems that run in the
// bench process (SpiceDB embedded, the engine's lookups): warm-up, then a bounded window.
import { createHistogram, percentileMs } from '../harness/histogram.js';
import type { ResultRow, Scenario } from '../report/row.js';

export interface SequentialTiming {
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Stop early after this many timed calls (slow systems need not fill the window). */
  readonly maxCalls?: number | undefined;
}

export async function timeSequential(
  what: { system: string; transport: string; scenario: Scenario; note?: string | undefined },
  call: (index: number) => Promise<number> | number,
  timing: SequentialTiming,
): Promise<ResultRow> {
  let index = 0;
  const warmUntil = performance.now() + timing.warmupMs;
  while (performance.now() < warmUntil) await call(index++);
  const histogram = createHistogram();
  let units = 0;
  let calls = 0;
  const start = performance.now();
  const until = start + timing.durationMs;
  let now = start;
  while (now < until && calls < (timing.maxCalls ?? Number.POSITIVE_INFINITY)) {
    const t0 = process.hrtime.bigint();
    units += await call(index++);
    histogram.recordValue(Number(process.hrtime.bigint() - t0));
    calls++;
    now = performance.now();
  }
  return {
    ...what,
    concurrency: 1,
    throughput: (calls / (now - start)) * 1000 * (what.scenario === 'batch' ? units / Math.max(calls, 1) : 1),
    p50Ms: percentileMs(histogram, 50),
    p99Ms: percentileMs(histogram, 99),
    p999Ms: percentileMs(histogram, 99.9),
    errors: 0,
  };
}
