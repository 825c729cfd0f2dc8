// The service bench: Gatehouse serving the dataset over gRPC and HTTP (loopback TCP, then Unix
// sockets), the bare transport floors, each gated on the sampled questions and then loaded from
// a separate process at every concurrency level.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnsweredQuestion, Dataset } from '../datasets/dataset.js';
import { loadThroughApi } from '../datasets/load-api.js';
import { formatEndpoint } from '../harness/endpoint.js';
import { LOAD_BATCH, startGatehouse } from '../harness/targets/gatehouse-target.js';
import { type RunningTarget, startTarget, tsxCommand } from '../harness/targets/process-target.js';
import type { Endpoint, LoadSpec, Operation, Question, Transport } from '../harness/types.js';
import type { BenchContext } from './context.js';
import { correctnessGate } from './gate.js';
import { lookupQuestions } from './in-process-phase.js';
import { measureLoad } from './load-row.js';
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
  token?: string,
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
    token,
  };
}

async function startLoadedGatehouse(
  ctx: BenchContext,
  dataset: Dataset,
  gate: readonly AnsweredQuestion[],
  addresses: { http: string; grpc: string },
  token: string,
): Promise<RunningTarget> {
  const target = await startGatehouse({
    schemaFiles: dataset.schemaFiles,
    ...addresses,
    token,
    build: ctx.options.server,
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
        httpParticipant('Gatehouse over HTTP', target.http!),
        grpcParticipant('Gatehouse over gRPC', target.grpc!),
      ],
      ctx.log,
    );
    return target;
  } catch (err) {
    await target.stop();
    throw err;
  }
}

export async function runServerPhase(
  ctx: BenchContext,
  dataset: Dataset,
  questions: readonly AnsweredQuestion[],
): Promise<void> {
  const { options, rows } = ctx;
  const has = (s: Parameters<typeof options.scenarios.has>[0]): boolean => options.scenarios.has(s);
  const token = randomBytes(16).toString('hex');
  const gate = questions.slice(0, options.gateQuestions);
  const note = `${options.sizeLabel}: ${dataset.relationshipCount.toLocaleString('en-US')} relationships`;

  if (has('grpc') || has('http') || has('batch') || has('lookup')) {
    ctx.log('server: starting Gatehouse on loopback TCP');
    const gh = await startLoadedGatehouse(
      ctx,
      dataset,
      gate,
      { http: '127.0.0.1:0', grpc: '127.0.0.1:0' },
      token,
    );
    try {
      for (const c of options.concurrency) {
        if (has('grpc'))
          rows.push(
            await measureLoad(
              ctx,
              { system: 'Gatehouse', transport: 'grpc', note },
              spec(ctx, 'grpc', 'check', gh.grpc!, questions, c),
            ),
          );
        if (has('http'))
          rows.push(
            await measureLoad(
              ctx,
              { system: 'Gatehouse', transport: 'http', note },
              spec(ctx, 'http', 'check', gh.http!, questions, c),
            ),
          );
      }
      if (has('batch')) {
        for (const c of options.concurrency) {
          for (const t of ['grpc', 'http'] as const) {
            const endpoint = t === 'grpc' ? gh.grpc! : gh.http!;
            rows.push(
              await measureLoad(
                ctx,
                { system: 'Gatehouse', transport: t, note: `CheckBatch(${options.batchSize}), ${note}` },
                spec(ctx, t, 'batch', endpoint, questions, c),
              ),
            );
          }
        }
      }
      if (has('lookup')) {
        const lookups = lookupQuestions(dataset, questions, options.lookupSubjects);
        for (const c of options.concurrency.filter((x) => x <= 16)) {
          for (const t of ['grpc', 'http'] as const) {
            const endpoint = t === 'grpc' ? gh.grpc! : gh.http!;
            rows.push(
              await measureLoad(
                ctx,
                {
                  system: 'Gatehouse',
                  transport: t,
                  note: `all pages of 1000, ${lookups.length} subjects, ${note}`,
                },
                spec(ctx, t, 'lookup', endpoint, lookups, c),
              ),
            );
          }
        }
      }
    } finally {
      await gh.stop();
    }
  }

  const socketDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-sock-'));
  try {
    if (has('unix')) {
      ctx.log('server: starting Gatehouse on Unix sockets');
      const addresses = {
        http: `unix:${join(socketDir, 'gh-http.sock')}`,
        grpc: `unix:${join(socketDir, 'gh-grpc.sock')}`,
      };
      const gh = await startLoadedGatehouse(ctx, dataset, gate, addresses, token);
      try {
        for (const c of options.concurrency) {
          rows.push(
            await measureLoad(
              ctx,
              { system: 'Gatehouse', transport: 'grpc unix', note },
              spec(ctx, 'grpc', 'check', gh.grpc!, questions, c),
            ),
          );
          rows.push(
            await measureLoad(
              ctx,
              { system: 'Gatehouse', transport: 'http unix', note },
              spec(ctx, 'http', 'check', gh.http!, questions, c),
            ),
          );
        }
      } finally {
        await gh.stop();
      }
    }

    if (has('floor')) {
      const floors: Array<[string, string, string, Transport, string]> = [
        ['grpc-js echo', 'grpc', GRPC_ECHO, 'grpc', '127.0.0.1:0'],
        ['hono echo', 'http', HTTP_ECHO, 'http', '127.0.0.1:0'],
      ];
      if (has('unix')) {
        floors.push([
          'grpc-js echo',
          'grpc unix',
          GRPC_ECHO,
          'grpc',
          `unix:${join(socketDir, 'echo-grpc.sock')}`,
        ]);
        floors.push([
          'hono echo',
          'http unix',
          HTTP_ECHO,
          'http',
          `unix:${join(socketDir, 'echo-http.sock')}`,
        ]);
      }
      for (const [system, transport, script, kind, address] of floors) {
        ctx.log(`server: starting the ${system} floor (${transport})`);
        const { command, args } = tsxCommand(script, [`--${kind}`, address]);
        const echo = await startTarget({ name: system, command, args });
        try {
          for (const c of options.concurrency) {
            const endpoint = kind === 'grpc' ? echo.grpc! : echo.http!;
            rows.push(
              await measureLoad(
                ctx,
                { system, transport, note: 'transport floor: decodes, answers a constant' },
                spec(ctx, kind, 'check', endpoint, questions, c),
              ),
            );
          }
          if (has('batch') && !transport.includes('unix')) {
            for (const c of options.concurrency) {
              const endpoint = kind === 'grpc' ? echo.grpc! : echo.http!;
              rows.push(
                await measureLoad(
                  ctx,
                  { system, transport, note: `transport floor for CheckBatch(${options.batchSize})` },
                  spec(ctx, kind, 'batch', endpoint, questions, c),
                ),
              );
            }
          }
        } finally {
          await echo.stop();
        }
      }
    }
  } finally {
    rmSync(socketDir, { recursive: true, force: true });
  }
}
