// The load generator run inside a worker process: `concurrency` loops, each issuing its next
// call as soon as the last one settles (closed loop) or when it is due (paced, `ratePerSecond`);
// warm-up calls are not recorded; calls still in flight when the window closes are awaited but
// not recorded.
import { setTimeout as sleep } from 'node:timers/promises';
import { createCerbosGrpcClient, createCerbosHttpClient } from './clients/cerbos-clients.js';
import { createGrpcClient } from './clients/grpc-client.js';
import { createHttpClient } from './clients/http-client.js';
import { createHistogram, encodeHistogram } from './histogram.js';
import type { LoadClient, LoadSpec, WorkerReport } from './types.js';

const MAX_ERROR_SAMPLES = 5;

/** Where the loop reads the time and waits: the real clock, or a virtual one in tests. */
export interface LoadClock {
  /** Milliseconds, monotonic, fractional. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const REAL_CLOCK: LoadClock = {
  now: () => performance.now(),
  sleep: (ms) => sleep(ms),
};

export function createClient(spec: LoadSpec): LoadClient {
  if (spec.protocol === 'cerbos') {
    return spec.transport === 'http' ? createCerbosHttpClient(spec) : createCerbosGrpcClient(spec);
  }
  return spec.transport === 'http' ? createHttpClient(spec) : createGrpcClient(spec);
}

export async function runLoadLoop(
  spec: LoadSpec,
  client: LoadClient = createClient(spec),
  clock: LoadClock = REAL_CLOCK,
): Promise<WorkerReport> {
  const histogram = createHistogram();
  const errorSamples = new Set<string>();
  let calls = 0;
  let decisions = 0;
  let errors = 0;

  const start = clock.now();
  const measureFrom = start + spec.warmupMs;
  const measureUntil = measureFrom + spec.durationMs;
  // Spread the loops over the question list so concurrent calls ask different questions.
  const stride = Math.max(1, Math.floor(spec.questions.length / spec.concurrency));

  // Paced: each loop sends every `interval` ms, the loops staggered evenly over one interval.
  const rate = spec.ratePerSecond;
  if (rate !== undefined && !(rate > 0)) throw new Error(`ratePerSecond ${rate} must be positive`);
  const interval = rate === undefined ? 0 : (spec.concurrency * 1000) / rate;

  async function loop(id: number): Promise<void> {
    let index = id * stride;
    let due = start + (interval * id) / spec.concurrency;
    for (;;) {
      if (interval > 0) {
        const wait = due - clock.now();
        if (wait > 0) await clock.sleep(wait);
        due += interval;
      }
      const t0 = clock.now();
      if (t0 >= measureUntil) return;
      const recorded = t0 >= measureFrom;
      try {
        const carried = await client.call(spec.operation, index++);
        const t1 = clock.now();
        if (recorded && t1 <= measureUntil) {
          // Nanoseconds; performance.now() resolves to microseconds or better on Node.
          histogram.recordValue(Math.max(1, Math.round((t1 - t0) * 1e6)));
          calls++;
          decisions += carried;
        }
      } catch (err) {
        // Errors count whenever they happen in the window: a failing target must never look fast.
        if (recorded) {
          errors++;
          if (errorSamples.size < MAX_ERROR_SAMPLES)
            errorSamples.add(err instanceof Error ? err.message : String(err));
        }
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: spec.concurrency }, (_, i) => loop(i)));
  } finally {
    await client.close();
  }
  return {
    calls,
    decisions,
    errors,
    errorSamples: [...errorSamples],
    elapsedMs: spec.durationMs,
    histogram: encodeHistogram(histogram),
  };
}
