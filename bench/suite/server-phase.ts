// The service bench: Gatehouse serving the dataset over gRPC and HTTP (loopback TCP, then Unix
// sockets) beside the bare transport floors, each gated on the sampled questions and then loaded
// from a separate process at every concurrency level. Gatehouse and the floors run at the same
// time and are measured in alternating pairs, so a ratio compares runs seconds apart.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baselineEntry } from '../cli/options.js';
import type { AnsweredQuestion, Dataset } from '../datasets/dataset.js';
import { loadThroughApi } from '../datasets/load-api.js';
import { formatEndpoint } from '../harness/endpoint.js';
import { LOAD_BATCH, startGatehouse } from '../harness/targets/gatehouse-target.js';
import { type RunningTarget, startTarget, tsxCommand } from '../harness/targets/process-target.js';
import type { Endpoint, LoadSpec, Operation, Question, Transport } from '../harness/types.js';
import type { BenchContext } from './context.js';
import { correctnessGate } from './gate.js';
import { lookupQuestions } from './in-process-phase.js';
import { type LoadTask, measureLoad, measurePair, measureSideBySide } from './load-row.js';
import { grpcParticipant, httpParticipant } from './server-answers.js';

const HTTP_ECHO = fileURLToPath(new URL('../harness/targets/http-echo-server.ts', import.meta.url));
const GRPC_ECHO = fileURLToPath(new URL('../harness/targets/grpc-echo-server.ts', import.meta.url));

function spec(
  ctx: BenchContext,
  transport: Transport,
  operation: Operation,
  endpoint: Endpoint,
  questions: readonly Question[],
  concurrency: number,
  ratePerSecond?: number,
): LoadSpec {
  return {
    transport,
    operation,
    endpoint,
    questions,
    batchSize: ctx.options.batchSize,
    lookupPageSize: 1000,
    concurrency,
    warmupMs: ctx.options.warmupMs,
    durationMs: ctx.options.durationMs,
    timeoutMs: 30_000,
    ratePerSecond,
  };
}

async function startLoadedGatehouse(
  ctx: BenchContext,
  dataset: Dataset,
  gate: readonly AnsweredQuestion[],
  addresses: { http: string; grpc: string },
  token: string,
  entry?: string,
): Promise<RunningTarget> {
  const target = await startGatehouse({
    schemaFiles: dataset.schemaFiles,
    ...addresses,
    token,
    build: entry === undefined ? ctx.options.server : 'dist',
    entry,
  });
  try {
    const started = performance.now();
    let next = 250_000;
    const loaded = await loadThroughApi(target.http!, dataset.relationships(), {
      token,
      batchSize: LOAD_BATCH,
      onProgress: (n) => {
        if (n >= next) {
          ctx.log(`  loaded ${n.toLocaleString('en-US')} relationships`);
          next += 250_000;
        }
      },
    });
    const seconds = (performance.now() - started) / 1000;
    ctx.log(
      `  loaded ${loaded.toLocaleString('en-US')} relationships through the API in ${seconds.toFixed(1)} s ` +
        `(${Math.round(loaded / seconds).toLocaleString('en-US')}/s) at http ${formatEndpoint(target.http!)}, grpc ${formatEndpoint(target.grpc!)}`,
    );
    await correctnessGate(
      gate,
      [
        httpParticipant(`Gatehouse${entry === undefined ? '' : ' (baseline)'} over HTTP`, target.http!),
        grpcParticipant(`Gatehouse${entry === undefined ? '' : ' (baseline)'} over gRPC`, target.grpc!),
      ],
      ctx.log,
    );
    return target;
  } catch (err) {
    await target.stop();
    throw err;
  }
}

/** Where one round of rows runs: loopback TCP, or Unix sockets in `dir`. */
type Network = { readonly kind: 'tcp' } | { readonly kind: 'unix'; readonly dir: string };

const FLOOR_SYSTEM: Record<Transport, string> = { grpc: 'grpc-js echo', http: 'hono echo' };
const FLOOR_SCRIPT: Record<Transport, string> = { grpc: GRPC_ECHO, http: HTTP_ECHO };
const FLOOR_NOTE = 'transport floor: decodes, answers a constant';

function address(network: Network, name: string): string {
  return network.kind === 'tcp' ? '127.0.0.1:0' : `unix:${join(network.dir, `${name}.sock`)}`;
}

/** Both transport floors, started side by side on `network`. */
async function startFloors(ctx: BenchContext, network: Network): Promise<Record<Transport, RunningTarget>> {
  const started: RunningTarget[] = [];
  try {
    for (const t of ['grpc', 'http'] as const) {
      ctx.log(
        `server: starting the ${FLOOR_SYSTEM[t]} floor (${t}${network.kind === 'unix' ? ' unix' : ''})`,
      );
      const { command, args } = tsxCommand(FLOOR_SCRIPT[t], [`--${t}`, address(network, `echo-${t}`)]);
      started.push(await startTarget({ name: FLOOR_SYSTEM[t], command, args }));
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  return { grpc: started[0]!, http: started[1]! };
}

/** One round of rows on `network`: Gatehouse and the floors, paired where both run. */
async function runOn(
  ctx: BenchContext,
  network: Network,
  dataset: Dataset,
  questions: readonly AnsweredQuestion[],
  token: string,
): Promise<void> {
  const { options, rows } = ctx;
  const has = (s: Parameters<typeof options.scenarios.has>[0]): boolean => options.scenarios.has(s);
  const tcp = network.kind === 'tcp';
  const label = (t: Transport): string => (tcp ? t : `${t} unix`);
  // Single checks on these transports (over Unix sockets: both, under --scenarios unix).
  const checked = (['grpc', 'http'] as const).filter((t) => !tcp || has(t));
  const runGatehouse = tcp ? checked.length > 0 || has('batch') || has('lookup') : has('unix');
  const runFloors = has('floor');
  if (!runGatehouse && !runFloors) return;
  if (tcp && has('steady') && !runFloors) {
    ctx.notes.push(
      "steady rows skipped: they are paced at a share of the floor's throughput, and --scenarios has no floor",
    );
  }
  const note = `${options.sizeLabel}: ${dataset.relationshipCount.toLocaleString('en-US')} relationships`;

  const floors = runFloors ? await startFloors(ctx, network) : undefined;
  let gh: RunningTarget | undefined;
  let base: RunningTarget | undefined;
  try {
    if (runGatehouse) {
      ctx.log(`server: starting Gatehouse on ${tcp ? 'loopback TCP' : 'Unix sockets'}`);
      const addresses = { http: address(network, 'gh-http'), grpc: address(network, 'gh-grpc') };
      gh = await startLoadedGatehouse(
        ctx,
        dataset,
        questions.slice(0, options.gateQuestions),
        addresses,
        token,
      );
      if (options.baseline !== undefined) {
        ctx.log(`server: starting the baseline Gatehouse (${baselineEntry(options.baseline)})`);
        base = await startLoadedGatehouse(
          ctx,
          dataset,
          questions.slice(0, options.gateQuestions),
          { http: address(network, 'base-http'), grpc: address(network, 'base-grpc') },
          token,
          baselineEntry(options.baseline),
        );
      }
    }
    const at = (target: RunningTarget, t: Transport): Endpoint =>
      t === 'grpc' ? target.grpc! : target.http!;
    const gatehouseTask = (
      t: Transport,
      operation: Operation,
      c: number,
      extra: string,
      rate?: number,
      asked: readonly Question[] = questions,
    ): LoadTask => ({
      label: {
        system: 'Gatehouse',
        transport: label(t),
        scenario: rate === undefined ? undefined : 'steady',
        note: extra + note,
      },
      spec: spec(ctx, t, operation, at(gh!, t), asked, c, rate),
    });
    /** The same load on the baseline build. */
    const baselineTask = (g: LoadTask): LoadTask => ({
      label: { ...g.label, system: 'Gatehouse (baseline)' },
      spec: { ...g.spec, endpoint: at(base!, g.spec.transport) },
    });
    const floorTask = (
      t: Transport,
      operation: Operation,
      c: number,
      floorNote: string,
      rate?: number,
    ): LoadTask => ({
      label: {
        system: FLOOR_SYSTEM[t],
        transport: label(t),
        scenario: rate === undefined ? undefined : 'steady',
        note: floorNote,
      },
      spec: spec(ctx, t, operation, at(floors![t], t), questions, c, rate),
    });
    /** Gatehouse and the floor in pairs when both run, else whichever runs. */
    const measure = async (g: LoadTask | undefined, f: LoadTask | undefined): Promise<void> => {
      if (g !== undefined && base !== undefined) {
        // Beside the baseline build: paired with it (alternating) when no floor runs, else right after.
        if (f === undefined) rows.push(...(await measureSideBySide(ctx, [g, baselineTask(g)])));
        else {
          rows.push(...(await measurePair(ctx, g, f)));
          const b = baselineTask(g);
          rows.push(await measureLoad(ctx, b.label, b.spec));
        }
        return;
      }
      if (g !== undefined && f !== undefined) rows.push(...(await measurePair(ctx, g, f)));
      else if (g !== undefined) rows.push(await measureLoad(ctx, g.label, g.spec));
      else if (f !== undefined) rows.push(await measureLoad(ctx, f.label, f.spec));
    };

    for (const c of options.concurrency) {
      for (const t of ['grpc', 'http'] as const) {
        const g = gh !== undefined && checked.includes(t) ? gatehouseTask(t, 'check', c, '') : undefined;
        await measure(g, floors === undefined ? undefined : floorTask(t, 'check', c, FLOOR_NOTE));
        // Latency at a steady load: both paced at one rate, a share of the floor's capacity.
        if (!tcp || !has('steady') || c < 2 || g === undefined || floors === undefined) continue;
        const capacity = rows.find(
          (r) =>
            r.system === FLOOR_SYSTEM[t] &&
            r.transport === label(t) &&
            r.scenario === 'check' &&
            r.concurrency === c,
        )?.throughput;
        if (capacity === undefined || capacity === 0) continue;
        const rate = Math.round(capacity * options.steadyLoad);
        const paced = `paced at ${rate.toLocaleString('en-US')} checks/s (${options.steadyLoad} × the floor's closed loop), `;
        await measure(
          gatehouseTask(t, 'check', c, paced, rate),
          floorTask(t, 'check', c, paced + FLOOR_NOTE, rate),
        );
      }
    }
    if (tcp && has('batch')) {
      for (const c of options.concurrency) {
        for (const t of ['grpc', 'http'] as const) {
          await measure(
            gh === undefined ? undefined : gatehouseTask(t, 'batch', c, `CheckBatch(${options.batchSize}), `),
            floors === undefined
              ? undefined
              : floorTask(t, 'batch', c, `transport floor for CheckBatch(${options.batchSize})`),
          );
        }
      }
    }
    if (tcp && has('lookup') && gh !== undefined) {
      // Two mixes: users who each see a few thousand documents (the subjects the note names),
      // and the sampled questions as they come, where about one lookup in fifteen is an org
      // admin's (every document): a large answer among small ones.
      const lookups = lookupQuestions(dataset, questions, options.lookupSubjects);
      const admins = dataset.visibilityFacts?.().admins;
      const adminShare =
        admins === undefined
          ? undefined
          : questions.filter((q) => admins.has(q.subjectId)).length / questions.length;
      const mixes: [string, readonly Question[]][] = [
        [`all pages of 1000, ${lookups.length} subjects (no admins), `, lookups],
        [
          `all pages of 1000, the sampled questions' subjects${adminShare === undefined ? '' : ` (${(adminShare * 100).toFixed(1)}% admins, who see every document)`}, `,
          questions,
        ],
      ];
      for (const [extra, asked] of mixes) {
        for (const c of options.concurrency.filter((x) => x <= 16)) {
          for (const t of ['grpc', 'http'] as const) {
            await measure(gatehouseTask(t, 'lookup', c, extra, undefined, asked), undefined);
          }
        }
      }
    }
  } finally {
    await Promise.all([gh?.stop(), base?.stop(), floors?.grpc.stop(), floors?.http.stop()]);
  }
}

export async function runServerPhase(
  ctx: BenchContext,
  dataset: Dataset,
  questions: readonly AnsweredQuestion[],
): Promise<void> {
  const token = randomBytes(16).toString('hex');
  await runOn(ctx, { kind: 'tcp' }, dataset, questions, token);
  if (!ctx.options.scenarios.has('unix')) return;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-sock-'));
  try {
    await runOn(ctx, { kind: 'unix', dir }, dataset, questions, token);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
