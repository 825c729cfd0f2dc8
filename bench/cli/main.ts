// `npm run bench` / `npm run bench:compare`: runs the phases the flags ask for, prints one table,
// and writes bench/RESULTS.md, bench/results.svg and bench/out/results.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { allowedShare } from '../datasets/dataset.js';
import { createDataset } from '../datasets/index.js';
import { writeResults } from '../report/results-md.js';
import type { ResultRow } from '../report/row.js';
import { renderChart } from '../report/svg-chart.js';
import { textTable } from '../report/table.js';
import { runCerbosPhase } from '../suite/cerbos-phase.js';
import type { BenchContext } from '../suite/context.js';
import { GateFailure } from '../suite/gate.js';
import { runInProcessPhase } from '../suite/in-process-phase.js';
import { runServerPhase } from '../suite/server-phase.js';
import { OptionsError, parseBenchOptions } from './options.js';

const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));

async function main(argv: readonly string[]): Promise<number> {
  let options: ReturnType<typeof parseBenchOptions>;
  try {
    options = parseBenchOptions(argv);
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return argv.includes('--help') ? 0 : 2;
  }
  const ctx: BenchContext = {
    options,
    log: (line) => process.stderr.write(`${line}\n`),
    rows: [] as ResultRow[],
    notes: [],
    versions: new Map(),
  };
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  const started = performance.now();
  ctx.log(`${options.command}  (load average ${load})`);
  let datasetDetail = '';
  try {
    if (options.scenarios.has('engine')) await runInProcessPhase(ctx);
    const serverScenarios = ['grpc', 'http', 'batch', 'lookup', 'unix', 'floor'] as const;
    if (serverScenarios.some((s) => options.scenarios.has(s)) || options.peers.has('cerbos')) {
      ctx.log(
        `server: generating ${options.dataset} at ${options.sizeLabel} (${options.size} relationships)`,
      );
      const dataset = await createDataset(options.dataset, {
        relationships: options.size,
        seed: options.seed,
      });
      const questions = dataset.sampleChecks(options.questions);
      datasetDetail =
        `${dataset.relationshipCount.toLocaleString('en-US')} relationships (size ${options.sizeLabel}, seed ${options.seed}) for the service rows, ` +
        `${options.peerSizeLabel} for the in-process rows; ${questions.length.toLocaleString('en-US')} sampled questions, ` +
        `${Math.round(allowedShare(questions) * 100)}% allowed`;
      if (serverScenarios.some((s) => options.scenarios.has(s)))
        await runServerPhase(ctx, dataset, questions);
      if (options.peers.has('cerbos')) await runCerbosPhase(ctx, dataset, questions);
    }
  } catch (err) {
    if (err instanceof GateFailure) {
      process.stderr.write(`\n${err.message}\n`);
      return 1;
    }
    throw err;
  }

  process.stdout.write(`\n${textTable(ctx.rows)}\n`);
  for (const note of ctx.notes) process.stdout.write(`note: ${note}\n`);
  ctx.log(`bench finished in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (options.writeResults && ctx.rows.length > 0) {
    mkdirSync(`${BENCH_DIR}out`, { recursive: true });
    writeFileSync(`${BENCH_DIR}out/results.json`, `${JSON.stringify(ctx.rows, null, 2)}\n`);
    const chart = renderChart(
      ctx.rows,
      'Gatehouse benchmark: single checks and batches',
      `${options.dataset}, ${options.command}, ${new Date().toISOString().slice(0, 10)}; 2 shared cores, noisy`,
    );
    writeFileSync(`${BENCH_DIR}out/results.svg`, chart);
    writeFileSync(`${BENCH_DIR}results.svg`, chart);
    writeResults(`${BENCH_DIR}RESULTS.md`, {
      command: options.command,
      dataset: options.dataset,
      datasetDetail: datasetDetail || `${options.peerSizeLabel} relationships`,
      rows: ctx.rows,
      notes: ctx.notes,
      versions: ctx.versions,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      load,
    });
    ctx.log('wrote bench/RESULTS.md, bench/results.svg and bench/out/results.json');
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
