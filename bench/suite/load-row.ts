// Runs load measurements through the harness and turns them into result rows: one target on
// its own (repeated, keeping the median run by throughput, when --repeat asks for it), or
// Gatehouse and its transport floor in alternating pairs, so the ratio between them is read
// from runs seconds apart rather than minutes.
import { runLoad } from '../harness/run-load.js';
import type { LoadSpec, LoadSummary } from '../harness/types.js';
import type { ResultRow, Scenario } from '../report/row.js';
import type { BenchContext } from './context.js';

/** What a row is about; `scenario` defaults to the spec's operation. */
export interface RowLabel {
  readonly system: string;
  readonly transport: string;
  readonly scenario?: Scenario | undefined;
  readonly note?: string | undefined;
}

/** One thing to measure: which system, and the load to put on it. */
export interface LoadTask {
  readonly label: RowLabel;
  readonly spec: LoadSpec;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function throughputOf(scenario: Scenario, run: LoadSummary): number {
  return scenario === 'lookup' ? run.callsPerSecond : run.decisionsPerSecond;
}

/** The run kept for a row: the median by throughput. */
function medianRun(scenario: Scenario, runs: readonly LoadSummary[]): LoadSummary {
  const sorted = [...runs].sort((a, b) => throughputOf(scenario, a) - throughputOf(scenario, b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

function toRow(ctx: BenchContext, task: LoadTask, runs: readonly LoadSummary[]): ResultRow {
  const scenario = task.label.scenario ?? task.spec.operation;
  const kept = medianRun(scenario, runs);
  const throughput = throughputOf(scenario, kept);
  ctx.log(
    `  ${task.label.system} ${task.label.transport} ${scenario} c=${task.spec.concurrency}: ${Math.round(throughput)}/s ` +
      `p50 ${kept.p50Ms.toFixed(3)} ms p99 ${kept.p99Ms.toFixed(3)} ms` +
      (kept.errors > 0 ? ` ERRORS ${kept.errors}: ${kept.errorSamples.join(' | ')}` : ''),
  );
  return {
    system: task.label.system,
    transport: task.label.transport,
    note: task.label.note,
    scenario,
    concurrency: task.spec.concurrency,
    throughput,
    p50Ms: kept.p50Ms,
    p99Ms: kept.p99Ms,
    p999Ms: kept.p999Ms,
    errors: kept.errors,
  };
}

function run(ctx: BenchContext, task: LoadTask): Promise<LoadSummary> {
  return (ctx.runLoad ?? runLoad)(task.spec, { workers: ctx.options.loadWorkers });
}

/** `task` measured --repeat times in a row; the median run by throughput becomes the row. */
export async function measureLoad(ctx: BenchContext, label: RowLabel, spec: LoadSpec): Promise<ResultRow> {
  const runs: LoadSummary[] = [];
  for (let r = 0; r < ctx.options.repeat; r++) runs.push(await run(ctx, { label, spec }));
  return toRow(ctx, { label, spec }, runs);
}

/**
 * Gatehouse and its floor, --repeat pairs of runs back to back, alternating which goes first.
 * Each row keeps its own median run; the Gatehouse row also carries the medians of the per-pair
 * throughput ratios and p50 differences, which a drifting machine disturbs far less than it does
 * rows measured minutes apart.
 */
export async function measurePair(
  ctx: BenchContext,
  gatehouse: LoadTask,
  floor: LoadTask,
): Promise<[ResultRow, ResultRow]> {
  const g: LoadSummary[] = [];
  const f: LoadSummary[] = [];
  for (let r = 0; r < ctx.options.repeat; r++) {
    if (r % 2 === 0) {
      g.push(await run(ctx, gatehouse));
      f.push(await run(ctx, floor));
    } else {
      f.push(await run(ctx, floor));
      g.push(await run(ctx, gatehouse));
    }
  }
  const scenario = gatehouse.label.scenario ?? gatehouse.spec.operation;
  const ratios = g.map((run, i) => {
    const base = throughputOf(scenario, f[i]!);
    return base === 0 ? 0 : throughputOf(scenario, run) / base;
  });
  const deltas = g.map((run, i) => run.p50Ms - f[i]!.p50Ms);
  const gRow: ResultRow = {
    ...toRow(ctx, gatehouse, g),
    vsFloor: {
      system: floor.label.system,
      throughputRatio: median(ratios),
      p50DeltaMs: median(deltas),
      pairs: g.length,
    },
  };
  return [gRow, toRow(ctx, floor, f)];
}

/**
 * Several targets under the same load, --repeat rounds, each round in the other order than the
 * last (two builds of Gatehouse, say): each row keeps its median run, from runs seconds apart.
 */
export async function measureSideBySide(ctx: BenchContext, tasks: readonly LoadTask[]): Promise<ResultRow[]> {
  const runs: LoadSummary[][] = tasks.map(() => []);
  for (let r = 0; r < ctx.options.repeat; r++) {
    const order = tasks.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) runs[i]!.push(await run(ctx, tasks[i]!));
  }
  return tasks.map((task, i) => toRow(ctx, task, runs[i]!));
}
