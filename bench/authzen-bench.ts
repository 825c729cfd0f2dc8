// AuthZEN Access Evaluation vs the native HTTP check, same server, same question, same run:
// `gatehouse serve` on the interop Todo policy in a child process, an undici pool in this one;
// rounds alternate the two (order rotated each round), closed loop at a fixed concurrency. Prints
// per-variant medians of per-round p50 latency and throughput, and the median of the per-round
// ratios (AuthZEN time per call / native). Loopback only, bounded by --rounds and --calls.
//
//   npm run build && npx tsx bench/authzen-bench.ts --rounds 9 --calls 4000 --concurrency 1,16
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const MAIN_JS = fileURLToPath(new URL('../server/dist/cli/main.js', import.meta.url));
const POLICIES = fileURLToPath(new URL('../test/e2e/fixtures/authzen_todo', import.meta.url));
const MORTY = 'CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs';
const TODO = '7240d0db-8ff0-41ec-98b2-34a096273b91';

/** The same question in both vocabularies: may Morty update his todo? (allowed, through an arrow and an intersection) */
const VARIANTS = {
  native: {
    path: '/v1/check',
    body: JSON.stringify({
      resource: { objectType: 'todo', objectId: TODO },
      permission: 'can_update_todo',
      subject: { object: { objectType: 'user', objectId: MORTY } },
    }),
    allowed: (text: string) => text.includes('PERMISSIONSHIP_HAS_PERMISSION'),
  },
  authzen: {
    path: '/access/v1/evaluation',
    // As the interop PEP sends it, properties and empty context included.
    body: JSON.stringify({
      subject: { type: 'user', id: MORTY },
      action: { name: 'can_update_todo' },
      resource: { type: 'todo', id: TODO, properties: { ownerID: 'morty@the-citadel.com' } },
      context: {},
    }),
    allowed: (text: string) => text === '{"decision":true}',
  },
} as const;
type Variant = keyof typeof VARIANTS;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    calls: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '1,16' },
  },
});
const ROUNDS = Number(values.rounds);
const CALLS = Number(values.calls);
const CONCURRENCIES = values.concurrency.split(',').map(Number);

async function startServer(): Promise<{ child: ChildProcess; http: string }> {
  const child = spawn(
    process.execPath,
    [MAIN_JS, 'serve', '--policies', POLICIES, '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info' } },
  );
  const http = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gatehouse serve exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; http?: string };
        if (entry.msg === 'ready' && typeof entry.http === 'string') resolve(entry.http);
      } catch {
        // not a log line
      }
    });
  });
  return { child, http };
}

interface Round {
  readonly nsPerCall: number;
  readonly p50Us: number;
}

/** `calls` requests of one variant from `concurrency` closed loops; wall time per call and p50 latency. */
async function round(pool: Pool, variant: Variant, concurrency: number, calls: number): Promise<Round> {
  const { path, body, allowed } = VARIANTS[variant];
  const latencies = new Float64Array(calls);
  let next = 0;
  const loop = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= calls) return;
      const t0 = performance.now();
      const res = await pool.request({
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await res.body.text();
      latencies[i] = performance.now() - t0;
      if (res.statusCode !== 200 || !allowed(text)) throw new Error(`${variant}: ${res.statusCode} ${text}`);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = performance.now() - start;
  latencies.sort();
  return { nsPerCall: (elapsed * 1e6) / calls, p50Us: latencies[Math.floor(calls / 2)]! * 1000 };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const { child, http } = await startServer();
  try {
    for (const concurrency of CONCURRENCIES) {
      const pool = new Pool(`http://${http}`, { connections: concurrency });
      // Warm-up: JIT both paths before anything is recorded.
      for (const v of Object.keys(VARIANTS) as Variant[])
        await round(pool, v, concurrency, Math.min(CALLS, 2000));
      const rounds: Record<Variant, Round[]> = { native: [], authzen: [] };
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const order: Variant[] = r % 2 === 0 ? ['native', 'authzen'] : ['authzen', 'native'];
        const got: Partial<Record<Variant, Round>> = {};
        for (const v of order) got[v] = await round(pool, v, concurrency, CALLS);
        rounds.native.push(got.native!);
        rounds.authzen.push(got.authzen!);
        ratios.push(got.authzen!.nsPerCall / got.native!.nsPerCall);
      }
      await pool.close();
      console.log(`\nconcurrency ${concurrency}, ${ROUNDS} rounds of ${CALLS} calls per variant`);
      console.log(
        '| variant | calls/s (median) | p50 µs (median) | time per call, ratio to native (median of per-round ratios) |',
      );
      console.log('|---|---:|---:|---:|');
      for (const v of ['native', 'authzen'] as Variant[]) {
        const perSecond = median(rounds[v].map((x) => 1e9 / x.nsPerCall));
        const p50 = median(rounds[v].map((x) => x.p50Us));
        const ratio = v === 'native' ? 1 : median(ratios);
        console.log(`| ${v} | ${Math.round(perSecond)} | ${p50.toFixed(1)} | ${ratio.toFixed(3)} |`);
      }
      console.log(`per-round ratios: ${ratios.map((x) => x.toFixed(3)).join(' ')}`);
    }
  } finally {
    child.kill('SIGTERM');
  }
}

await main();
