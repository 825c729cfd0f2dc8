// The bench's flags, parsed and checked in one place; every problem is reported at once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseSize } from '../datasets/dataset.js';

export const ALL_SCENARIOS = [
  'engine',
  'grpc',
  'http',
  'batch',
  'steady',
  'lookup',
  'unix',
  'floor',
] as const;
export type BenchScenario = (typeof ALL_SCENARIOS)[number];
export const ALL_PEERS = ['cerbos', 'spicedb', 'casbin', 'cedar', 'casl'] as const;
export type BenchPeer = (typeof ALL_PEERS)[number];

export interface BenchOptions {
  readonly compare: boolean;
  readonly dataset: string;
  /** Relationships for the server bench. */
  readonly size: number;
  readonly sizeLabel: string;
  /** Relationships for the in-process and SpiceDB comparisons. */
  readonly peerSize: number;
  readonly peerSizeLabel: string;
  readonly seed: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Runs per load measurement; the median by throughput is kept. */
  readonly repeat: number;
  /** Load-generator processes per measurement (the concurrency is split between them). */
  readonly loadWorkers: number;
  readonly concurrency: readonly number[];
  /**
   * The paced load of the `steady` rows, as a share of the transport floor's closed-loop
   * throughput at the same concurrency in the same run.
   */
  readonly steadyLoad: number;
  readonly scenarios: ReadonlySet<BenchScenario>;
  readonly peers: ReadonlySet<BenchPeer>;
  /** Sampled questions the load cycles through. */
  readonly questions: number;
  /** Questions every system must answer identically before timing. */
  readonly gateQuestions: number;
  readonly batchSize: number;
  readonly lookupSubjects: number;
  readonly server: 'dist' | 'src';
  /**
   * Another checkout whose built server (DIR/server/dist) runs beside this one, loaded with the
   * same data: every Gatehouse service row is measured on both, alternating, in the same run.
   */
  readonly baseline?: string | undefined;
  /** Write bench/RESULTS.md and bench/results.svg. */
  readonly writeResults: boolean;
  readonly command: string;
}

export const USAGE = `Usage: npm run bench [-- flags]      (npm run bench:compare adds the peers)

  --compare               also run the peers (Cerbos, SpiceDB, casbin, cedar-wasm, CASL)
  --dataset NAME          group-visibility (default), client-portal, helpdesk, carrier-panel,
                          sales-crm, team-crm
  --size S|M|L|N          relationships for the server bench (default M = 1,000,000)
  --peer-size S|M|L|N     relationships for the in-process and SpiceDB comparison (default S)
  --duration SECONDS      timed window per measurement (default 5)
  --warmup SECONDS        untimed warm-up per measurement (default 1)
  --repeat N              runs per load measurement, median kept (default 1)
  --load-workers N        load-generator processes per measurement (default 1: on 2 cores a
                          second one takes the server's core)
  --concurrency LIST      closed-loop concurrency levels (default 1,16,64)
  --steady-load SHARE     paced load of the steady rows (c >= 16), as a share of the floor's
                          closed-loop throughput at that concurrency (default 0.5)
  --scenarios LIST        ${ALL_SCENARIOS.join(',')} (default all)
  --peers LIST            ${ALL_PEERS.join(',')} (default all, with --compare)
  --questions N           sampled questions to cycle through (default 10000)
  --gate N                questions for the correctness gate (default 500)
  --batch-size N          items per CheckBatch (default 100)
  --lookup-subjects N     subjects for the LookupResources comparison (default 20)
  --seed N                dataset seed (default 42)
  --server dist|src       run server/dist (default; npm run build first) or the sources via tsx
  --baseline DIR          also run DIR/server/dist (another checkout, built) loaded with the same
                          data; each Gatehouse service row is measured on both, alternating
  --no-results            print only; do not rewrite bench/RESULTS.md and bench/results.svg
`;

/** The built server of the checkout in `dir`. */
export function baselineEntry(dir: string): string {
  return join(dir, 'server/dist/cli/main.js');
}

export class OptionsError extends Error {
  override readonly name = 'OptionsError';
}

function list<T extends string>(
  value: string,
  allowed: readonly T[],
  flag: string,
  problems: string[],
): Set<T> {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) problems.push(`${flag} '${item}' is not one of ${allowed.join(', ')}`);
  }
  return new Set(items.filter((i): i is T => allowed.includes(i as T)));
}

function positive(value: string, flag: string, problems: string[], integer = true): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    problems.push(`${flag} '${value}' must be a positive ${integer ? 'integer' : 'number'}`);
    return 1;
  }
  return n;
}

function share(value: string, flag: string, problems: string[]): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) {
    problems.push(`${flag} '${value}' must be a number above 0 and at most 1`);
    return 0.5;
  }
  return n;
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      compare: { type: 'boolean', default: false },
      dataset: { type: 'string', default: 'group-visibility' },
      size: { type: 'string', default: 'M' },
      'peer-size': { type: 'string', default: 'S' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      repeat: { type: 'string', default: '1' },
      'load-workers': { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '1,16,64' },
      'steady-load': { type: 'string', default: '0.5' },
      scenarios: { type: 'string', default: ALL_SCENARIOS.join(',') },
      peers: { type: 'string', default: ALL_PEERS.join(',') },
      questions: { type: 'string', default: '10000' },
      gate: { type: 'string', default: '500' },
      'batch-size': { type: 'string', default: '100' },
      'lookup-subjects': { type: 'string', default: '20' },
      seed: { type: 'string', default: '42' },
      server: { type: 'string', default: 'dist' },
      baseline: { type: 'string' },
      'no-results': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new OptionsError(USAGE);
  const problems: string[] = [];
  const size = (label: string, flag: string): number => {
    try {
      return parseSize(label);
    } catch (err) {
      problems.push(`${flag}: ${(err as Error).message}`);
      return 1;
    }
  };
  const concurrency = values.concurrency.split(',').map((c) => positive(c.trim(), '--concurrency', problems));
  if (values.server !== 'dist' && values.server !== 'src')
    problems.push(`--server '${values.server}' must be dist or src`);
  const options: BenchOptions = {
    compare: values.compare,
    dataset: values.dataset,
    size: size(values.size, '--size'),
    sizeLabel: values.size,
    peerSize: size(values['peer-size'], '--peer-size'),
    peerSizeLabel: values['peer-size'],
    seed: positive(values.seed, '--seed', problems),
    warmupMs: positive(values.warmup, '--warmup', problems, false) * 1000,
    durationMs: positive(values.duration, '--duration', problems, false) * 1000,
    repeat: positive(values.repeat, '--repeat', problems),
    loadWorkers: positive(values['load-workers'], '--load-workers', problems),
    concurrency,
    steadyLoad: share(values['steady-load'], '--steady-load', problems),
    scenarios: list(values.scenarios, ALL_SCENARIOS, '--scenarios', problems),
    peers: values.compare ? list(values.peers, ALL_PEERS, '--peers', problems) : new Set(),
    questions: positive(values.questions, '--questions', problems),
    gateQuestions: positive(values.gate, '--gate', problems),
    batchSize: positive(values['batch-size'], '--batch-size', problems),
    lookupSubjects: positive(values['lookup-subjects'], '--lookup-subjects', problems),
    server: values.server === 'src' ? 'src' : 'dist',
    baseline: values.baseline,
    writeResults: !values['no-results'],
    command: `npm run ${values.compare ? 'bench:compare' : 'bench'}${argv.filter((a) => a !== '--compare').length > 0 ? ` -- ${argv.filter((a) => a !== '--compare').join(' ')}` : ''}`,
  };
  if (values.baseline !== undefined && !existsSync(baselineEntry(values.baseline)))
    problems.push(
      `--baseline: ${baselineEntry(values.baseline)} does not exist: build that checkout first (npm run build)`,
    );
  if (problems.length > 0) throw new OptionsError(`${problems.join('\n')}\n\n${USAGE}`);
  return options;
}
