// Cerbos beside Gatehouse on the same questions: its binary on loopback with the CEL policy;
// each request carries the principal's transitive group set, computed here (Cerbos cannot), and
// is gated before it is timed over HTTP and gRPC at every concurrency level.
import type { AnsweredQuestion, Dataset } from '../datasets/dataset.js';
import { cerbosPayloads } from '../peers/cerbos/policy.js';
import { startCerbos } from '../peers/cerbos/server.js';
import { ensurePeers } from '../peers/install.js';
import { PEER_PACKAGES, packageVersion } from '../peers/versions.js';
import type { BenchContext } from './context.js';
import { correctnessGate } from './gate.js';
import { measureLoad } from './load-row.js';

export async function runCerbosPhase(
  ctx: BenchContext,
  dataset: Dataset,
  questions: readonly AnsweredQuestion[],
): Promise<void> {
  const { options } = ctx;
  if (dataset.visibilityFacts === undefined) {
    ctx.notes.push(`Cerbos expresses only the group-visibility rules here; skipped for ${options.dataset}.`);
    return;
  }
  const available = (await ensurePeers(['cerbos'])).get('cerbos')!;
  if (!available.ok) {
    ctx.notes.push(`Cerbos skipped: ${available.reason}`);
    return;
  }
  const version = packageVersion(PEER_PACKAGES.cerbos);
  const system = `Cerbos ${version}`;
  ctx.log("cerbos: computing each question's principal group set and resource attributes");
  const payloads = cerbosPayloads(dataset.visibilityFacts(), questions);
  let cerbos: Awaited<ReturnType<typeof startCerbos>>;
  try {
    cerbos = await startCerbos(available.dir);
  } catch (err) {
    ctx.notes.push(`Cerbos skipped: ${(err as Error).message}`);
    return;
  }
  ctx.versions.set('Cerbos', version);
  try {
    const gate = questions.slice(0, options.gateQuestions);
    const url = `http://127.0.0.1:${cerbos.http!.kind === 'tcp' ? cerbos.http!.port : 0}/api/check/resources`;
    await correctnessGate(
      gate,
      [
        {
          system,
          answer: async (qs) => {
            const out: boolean[] = [];
            for (let i = 0; i < qs.length; i++) {
              const res = await fetch(url, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(payloads.http[i]),
              });
              const body = (await res.json()) as { results?: Array<{ actions?: { view?: string } }> };
              out.push(body.results?.[0]?.actions?.view === 'EFFECT_ALLOW');
            }
            return out;
          },
        },
      ],
      ctx.log,
    );
    const note = 'handed the transitive group set per request';
    for (const c of options.concurrency) {
      for (const transport of ['grpc', 'http'] as const) {
        ctx.rows.push(
          await measureLoad(
            ctx,
            { system, transport, note },
            {
              transport,
              operation: 'check',
              endpoint: transport === 'grpc' ? cerbos.grpc! : cerbos.http!,
              questions,
              batchSize: 1,
              lookupPageSize: 1,
              concurrency: c,
              warmupMs: options.warmupMs,
              durationMs: options.durationMs,
              timeoutMs: 30_000,
              protocol: 'cerbos',
              payloads: transport === 'grpc' ? payloads.grpc : payloads.http,
            },
          ),
        );
      }
    }
  } finally {
    await cerbos.stop();
  }
}
