// Runs one load measurement through the harness (repeated, keeping the median run by
// throughput, when --repeat asks for it) and turns it into a result row.
import { runLoad } from '../harness/run-load.js';
import type { LoadSpec, LoadSummary } from '../harness/types.js';
import type { ResultRow, Scenario } from '../report/row.js';
import type { BenchContext } from './context.js';

export async function measureLoad(
  ctx: BenchContext,
  what: { system: string; transport: string; note?: string | undefined },
  spec: LoadSpec,
): Promise<ResultRow> {
  const runs: LoadSummary[] = [];
  for (let r = 0; r < ctx.options.repeat; r++)
    runs.push(await runLoad(spec, { workers: ctx.options.loadWorkers }));
  runs.sort((a, b) => a.decisionsPerSecond - b.decisionsPerSecond);
  const median = runs[Math.floor(runs.length / 2)]!;
  const scenario: Scenario = spec.operation;
  const throughput = scenario === 'lookup' ? median.callsPerSecond : median.decisionsPerSecond;
  ctx.log(
    `  ${what.system} ${what.transport} ${scenario} c=${spec.concurrency}: ${Math.round(throughput)}/s ` +
      `p50 ${median.p50Ms.toFixed(3)} ms p99 ${median.p99Ms.toFixed(3)} ms` +
      (median.errors > 0 ? ` ERRORS ${median.errors}: ${median.errorSamples.join(' | ')}` : ''),
  );
  return {
    ...what,
    scenario,
    concurrency: spec.concurrency,
    throughput,
    p50Ms: median.p50Ms,
    p99Ms: median.p99Ms,
    p999Ms: median.p999Ms,
    errors: median.errors,
  };
}
