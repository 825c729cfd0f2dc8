// Times an in-process checker on the bench's own thread: warm-up, then throughput over a fixed
// window (calls counted in chunks so the clock is not read per call), then per-call latency on
// a bounded sample (each sample includes one hrtime read, ~30-60 ns).
import { createHistogram, percentileMs } from '../harness/histogram.js';
import type { Question } from '../harness/types.js';
import type { InProcessChecker } from '../peers/in-process/checker.js';
import type { ResultRow } from '../report/row.js';

export interface InProcessTiming {
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Calls timed one by one for the latency percentiles. */
  readonly latencySamples: number;
}

const CHUNK = 256;

export function timeInProcess(
  checker: InProcessChecker,
  questions: readonly Question[],
  timing: InProcessTiming,
): ResultRow {
  const n = questions.length;
  let i = 0;
  // Keep results observable so the JIT cannot drop the calls.
  let allowed = 0;
  const warmUntil = performance.now() + timing.warmupMs;
  while (performance.now() < warmUntil) {
    for (let k = 0; k < CHUNK; k++) if (checker.check(questions[i++ % n]!)) allowed++;
  }
  let calls = 0;
  const start = performance.now();
  const until = start + timing.durationMs;
  let now = start;
  while (now < until) {
    for (let k = 0; k < CHUNK; k++) if (checker.check(questions[i++ % n]!)) allowed++;
    calls += CHUNK;
    now = performance.now();
  }
  const elapsedMs = now - start;
  const histogram = createHistogram();
  for (let k = 0; k < timing.latencySamples; k++) {
    const q = questions[i++ % n]!;
    const t0 = process.hrtime.bigint();
    if (checker.check(q)) allowed++;
    histogram.recordValue(Number(process.hrtime.bigint() - t0));
  }
  if (allowed < 0) throw new Error('unreachable');
  return {
    system: checker.system === 'Gatehouse' ? 'Gatehouse' : `${checker.system} ${checker.version}`,
    transport: 'in-process',
    scenario: 'check',
    concurrency: 1,
    throughput: (calls / elapsedMs) * 1000,
    p50Ms: percentileMs(histogram, 50),
    p99Ms: percentileMs(histogram, 99),
    p999Ms: percentileMs(histogram, 99.9),
    errors: 0,
    note: checker.note,
  };
}
