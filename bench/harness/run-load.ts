// Runs one load spec from separate worker processes (fork + tsx) and merges their reports into
// throughput and latency percentiles. The parent only orchestrates; it sends no load itself.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mergeHistograms, percentileMs } from './histogram.js';
import type { LoadSpec, LoadSummary, WorkerMessage, WorkerReport } from './types.js';

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

export interface RunLoadOptions {
  /** Worker processes; the concurrency is split between them. Default 1: on 2 cores a second client steals the target's core. */
  readonly workers?: number;
}

function runWorker(spec: LoadSpec): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    const killAfter = setTimeout(
      () => {
        child.kill('SIGKILL');
        finish(
          new Error(`load worker did not report within ${spec.warmupMs + spec.durationMs + 120_000} ms`),
        );
      },
      spec.warmupMs + spec.durationMs + 120_000,
    );
    function finish(err: Error | null, report?: WorkerReport): void {
      if (settled) return;
      settled = true;
      clearTimeout(killAfter);
      if (err) reject(err);
      else resolve(report!);
    }
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'report') finish(null, message.report);
      else finish(new Error(`load worker failed: ${message.message}`));
      child.disconnect();
    });
    child.on('error', (err) => finish(err));
    child.on('exit', (code) => finish(new Error(`load worker exited with code ${code} before reporting`)));
    child.send({ type: 'run', spec });
  });
}

export function summarize(reports: readonly WorkerReport[]): LoadSummary {
  const h = mergeHistograms(reports.map((r) => r.histogram));
  const calls = reports.reduce((n, r) => n + r.calls, 0);
  const decisions = reports.reduce((n, r) => n + r.decisions, 0);
  const errors = reports.reduce((n, r) => n + r.errors, 0);
  const elapsedMs = Math.max(...reports.map((r) => r.elapsedMs));
  return {
    calls,
    decisions,
    errors,
    errorSamples: [...new Set(reports.flatMap((r) => r.errorSamples))].slice(0, 5),
    elapsedMs,
    callsPerSecond: calls / (elapsedMs / 1000),
    decisionsPerSecond: decisions / (elapsedMs / 1000),
    p50Ms: percentileMs(h, 50),
    p90Ms: percentileMs(h, 90),
    p99Ms: percentileMs(h, 99),
    p999Ms: percentileMs(h, 99.9),
    maxMs: h.totalCount === 0 ? 0 : h.maxValue / 1e6,
  };
}

/** The specs `workers` load workers run for `spec`: its clients and its pace split between them. */
export function splitSpec(spec: LoadSpec, requestedWorkers: number): LoadSpec[] {
  const workers = Math.max(1, Math.min(requestedWorkers, spec.concurrency));
  return Array.from({ length: workers }, (_, i) => {
    const concurrency = Math.floor(spec.concurrency / workers) + (i < spec.concurrency % workers ? 1 : 0);
    // A paced load is split like the clients: each worker paces its share.
    const ratePerSecond =
      spec.ratePerSecond === undefined ? undefined : (spec.ratePerSecond * concurrency) / spec.concurrency;
    return { ...spec, concurrency, ratePerSecond };
  });
}

/** Run `spec` from `workers` processes at once (concurrency split between them) and merge. */
export async function runLoad(spec: LoadSpec, options: RunLoadOptions = {}): Promise<LoadSummary> {
  return summarize(await Promise.all(splitSpec(spec, options.workers ?? 1).map(runWorker)));
}
