// End-to-end gRPC floor by codec and by server implementation: starts every echo variant
// (bench/grpc/echo-variants.ts) at once, then drives them with the bench's own load client
// (bench/harness, one worker process, grpc-js channel) in alternation: each round visits every
// concurrency and, within it, every target in a rotated order, so all targets share the same
// machine conditions. Reports medians over rounds of throughput, p50, p99 and the echo server's
// own CPU time per call (from /proc), which shows codec savings that a 2-core box's throughput hides.
//
//   npx tsx bench/grpc/e2e-bench.ts [--rounds 3] [--duration 3] [--warmup 1] [--concurrency 1,16,64]
//                                   [--operations check,batch] [--variants a,b] [--no-unix]
//                                   [--gatehouse M] [--baseline DIR] [--rate N]
// --gatehouse SIZE also starts the built `gatehouse serve` loaded with the group-visibility
// dataset at SIZE (S, M, L or a number) and alternates it with the echo variants, on that
// dataset's questions: the same client, rounds and CPU accounting for the real server.
// --baseline DIR adds a second Gatehouse, built in another checkout (DIR/server/dist, e.g. a
// `git worktree` of the commit before a change), to measure a change against the build before it.
// --rate N paces the clients at N calls/s together instead of a closed loop: every target then
// answers the same calls at the same pace, so the CPU per call compares like with like.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseSize } from '../datasets/dataset.js';
import { createDataset } from '../datasets/index.js';
import { loadThroughApi } from '../datasets/load-api.js';
import { runLoad } from '../harness/run-load.js';
import { LOAD_BATCH, startGatehouse } from '../harness/targets/gatehouse-target.js';
import { type RunningTarget, startTarget, tsxCommand } from '../harness/targets/process-target.js';
import type { LoadSpec, LoadSummary, Operation } from '../harness/types.js';

import { VARIANTS } from './variants.js';

const SCRIPT = fileURLToPath(new URL('./echo-variants.ts', import.meta.url));

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,16,64' },
    operations: { type: 'string', default: 'check' },
    variants: { type: 'string', default: VARIANTS.join(',') },
    'no-unix': { type: 'boolean', default: false },
    gatehouse: { type: 'string' },
    baseline: { type: 'string' },
    rate: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const levels = values.concurrency.split(',').map(Number);
const operations = values.operations.split(',') as Operation[];
const variants = values.variants.split(',');
for (const v of variants)
  if (!(VARIANTS as readonly string[]).includes(v))
    throw new Error(`unknown variant '${v}': ${VARIANTS.join(', ')}`);

/** utime + stime of a process or one of its threads, in clock ticks (100 Hz on Linux). */
function ticksOf(statPath: string): number {
  const stat = readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * A process's CPU ticks, all threads and the main (JavaScript) thread alone. The rest is V8's
 * helper threads (concurrent marking, sweeping, compilation) and libuv's pool: work a CPU
 * profile of the main thread does not show.
 */
function cpuTicks(pid: number): { all: number; main: number } {
  return { all: ticksOf(`/proc/${pid}/stat`), main: ticksOf(`/proc/${pid}/task/${pid}/stat`) };
}
const TICK_US = 10_000;

interface Target {
  readonly label: string;
  readonly transport: string;
  readonly running: RunningTarget;
}

const socketDir = mkdtempSync(join(tmpdir(), 'gh-grpc-e2e-'));
const targets: Target[] = [];
// Ctrl-C or a kill must not leave echo servers listening behind us.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all(targets.map((t) => t.running.stop())).finally(() => {
      rmSync(socketDir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
const dataset = await createDataset('group-visibility', {
  relationships: values.gatehouse === undefined ? 10_000 : parseSize(values.gatehouse),
  seed: 7,
});
const questions = dataset.sampleChecks(1000);

interface Sample {
  readonly summary: LoadSummary;
  readonly cpuUsPerCall: number;
  /** The part of cpuUsPerCall spent off the main thread. */
  readonly helperCpuUsPerCall: number;
}
const samples = new Map<string, Sample[]>();
const key = (t: Target, op: Operation, c: number): string => `${t.label}|${t.transport}|${op}|${c}`;

try {
  const plan: Array<[string, string, string]> = variants.map((v) => [v, 'tcp', '127.0.0.1:0']);
  if (!values['no-unix']) {
    for (const v of ['grpc-js/reflection', 'node-http2/reflection'].filter((x) => variants.includes(x))) {
      plan.push([v, 'unix', `unix:${join(socketDir, `${v.replace('/', '-')}.sock`)}`]);
    }
  }
  for (const [label, transport, address] of plan) {
    const { command, args } = tsxCommand(SCRIPT, ['--variant', label, '--grpc', address]);
    targets.push({ label, transport, running: await startTarget({ name: label, command, args }) });
  }
  if (values.baseline !== undefined && values.gatehouse === undefined)
    throw new Error('--baseline needs --gatehouse SIZE');
  const builds: Array<[string, string | undefined]> = [['gatehouse', undefined]];
  if (values.baseline !== undefined)
    builds.push(['gatehouse baseline', join(values.baseline, 'server/dist/cli/main.js')]);
  for (const [label, entry] of values.gatehouse === undefined ? [] : builds) {
    const token = 'e2e-bench';
    const running = await startGatehouse({
      schemaFiles: dataset.schemaFiles,
      http: '127.0.0.1:0',
      grpc: '127.0.0.1:0',
      token,
      entry,
    });
    targets.push({ label, transport: 'tcp', running });
    const loaded = await loadThroughApi(running.http!, dataset.relationships(), {
      token,
      batchSize: LOAD_BATCH,
    });
    process.stderr.write(`${label}: loaded ${loaded} relationships\n`);
  }
  const spec = (t: Target, operation: Operation, concurrency: number, seconds: number): LoadSpec => ({
    transport: 'grpc',
    operation,
    endpoint: t.running.grpc!,
    questions,
    batchSize: 100,
    lookupPageSize: 1000,
    concurrency,
    warmupMs: Number(values.warmup) * 1000,
    durationMs: seconds * 1000,
    timeoutMs: 5000,
    ratePerSecond: values.rate === undefined ? undefined : Number(values.rate),
  });
  // Every target must answer through the real client before anything is timed.
  for (const t of targets) {
    for (const op of operations) {
      const s = await runLoad({ ...spec(t, op, 2, 1), warmupMs: 0 });
      if (s.errors > 0 || s.calls === 0)
        throw new Error(`${t.label} (${t.transport}) failed ${op}: ${s.errorSamples.join('; ')}`);
    }
  }
  const load = [loadavg()[0]!];
  for (let round = 0; round < rounds; round++) {
    for (const op of operations) {
      for (const c of levels) {
        for (let k = 0; k < targets.length; k++) {
          const t = targets[(k + round) % targets.length]!;
          const before = cpuTicks(t.running.pid);
          const summary = await runLoad(spec(t, op, c, Number(values.duration)));
          const after = cpuTicks(t.running.pid);
          // The ticks include the warm-up; divide by every call made, warm-up ones estimated at the same rate.
          const totalCalls =
            summary.calls * ((summary.elapsedMs + Number(values.warmup) * 1000) / summary.elapsedMs);
          if (summary.errors > 0) throw new Error(`${key(t, op, c)}: ${summary.errorSamples.join('; ')}`);
          const list = samples.get(key(t, op, c)) ?? [];
          list.push({
            summary,
            cpuUsPerCall: ((after.all - before.all) * TICK_US) / totalCalls,
            helperCpuUsPerCall:
              ((after.all - after.main - (before.all - before.main)) * TICK_US) / totalCalls,
          });
          samples.set(key(t, op, c), list);
          process.stderr.write(
            `round ${round + 1} ${op} c=${c} ${t.label} ${t.transport}: ${summary.callsPerSecond.toFixed(0)}/s p50 ${summary.p50Ms.toFixed(3)} ms\n`,
          );
        }
      }
    }
    load.push(loadavg()[0]!);
  }

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const lines = [
    `node ${process.version}, ${rounds} rounds alternating, ${values.duration}s + ${values.warmup}s warm-up per row, 1 load worker (grpc-js client); 1-min load average during the run: ${load.map((l) => l.toFixed(1)).join(' → ')}`,
    '',
    '| server | transport | op | c | calls/s (median) | vs grpc-js/reflection tcp | p50 | p99 | server CPU µs/call | of it off the main thread |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const op of operations) {
    for (const c of levels) {
      const base = targets.find((t) => t.label === 'grpc-js/reflection' && t.transport === 'tcp');
      const baseRate =
        base === undefined
          ? undefined
          : median(samples.get(key(base, op, c))!.map((s) => s.summary.callsPerSecond));
      for (const t of targets) {
        const s = samples.get(key(t, op, c))!;
        const rate = median(s.map((x) => x.summary.callsPerSecond));
        lines.push(
          `| ${t.label} | ${t.transport} | ${op} | ${c} | ${rate.toFixed(0)} | ${
            baseRate === undefined ? '—' : `${(rate / baseRate).toFixed(2)}×`
          } | ${(median(s.map((x) => x.summary.p50Ms)) * 1000).toFixed(0)} µs | ${median(
            s.map((x) => x.summary.p99Ms),
          ).toFixed(2)} ms | ${median(s.map((x) => x.cpuUsPerCall)).toFixed(1)} | ${median(
            s.map((x) => x.helperCpuUsPerCall),
          ).toFixed(1)} |`,
        );
      }
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await Promise.all(targets.map((t) => t.running.stop()));
  rmSync(socketDir, { recursive: true, force: true });
}
