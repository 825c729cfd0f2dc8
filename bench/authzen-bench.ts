// AuthZEN Access Evaluation vs the native HTTP check, same server, same question, same run:
// `gatehouse serve` on the interop Todo policy in a child process, an undici pool in this one,
// closed loop at a fixed concurrency. Each round interleaves the two in blocks of --block calls
// (order swapped every block), so a burst of load from elsewhere on the machine falls on both.
// Per round: wall time per call, p50 latency, and the server process's CPU time per call (from
// /proc/<pid>/stat, so time spent waiting for a core is not counted). Prints per-variant medians
// and the medians of the per-round ratios (AuthZEN / native). Loopback only, bounded by
// --rounds and --calls.
//
//   npm run build && npx tsx bench/authzen-bench.ts --rounds 15 --calls 4000 --concurrency 1,16
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const MAIN_JS = fileURLToPath(new URL('../server/dist/cli/main.js', import.meta.url));
const POLICIES = fileURLToPath(new URL('../policies/authzen_todo', import.meta.url));
const MORTY = 'CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs';
const TODO = '7240d0db-8ff0-41ec-98b2-34a096273b91';
/** The todo as the interop PEP names it; the policy's is_owner condition reads its ownerID. */
const TODO_RESOURCE = { type: 'todo', id: TODO, properties: { ownerID: 'morty@the-citadel.com' } };

/**
 * The same question in both vocabularies: may Morty update his todo? (allowed, through an arrow,
 * an intersection and the is_owner condition). The native check passes the context the AuthZEN
 * layer builds, so both do the same work and the ratio is the protocol's cost.
 */
const VARIANTS = {
  native: {
    path: '/v1/check',
    body: JSON.stringify({
      resource: { objectType: 'todo', objectId: TODO },
      permission: 'can_update_todo',
      subject: { object: { objectType: 'user', objectId: MORTY } },
      context: {
        subject: { type: 'user', id: MORTY },
        resource: TODO_RESOURCE,
        action: { name: 'can_update_todo' },
      },
    }),
    allowed: (text: string) => text.includes('PERMISSIONSHIP_HAS_PERMISSION'),
  },
  authzen: {
    path: '/access/v1/evaluation',
    // As the interop PEP sends it, properties and empty context included.
    body: JSON.stringify({
      subject: { type: 'user', id: MORTY },
      action: { name: 'can_update_todo' },
      resource: TODO_RESOURCE,
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
    block: { type: 'string', default: '200' },
  },
});
const ROUNDS = Number(values.rounds);
const CALLS = Number(values.calls);
const CONCURRENCIES = values.concurrency.split(',').map(Number);
const BLOCK = Number(values.block);
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU time (user + system) the process has used so far, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

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
  readonly cpuUsPerCall: number;
}

interface Tally {
  wallMs: number;
  cpuMs: number;
  latencies: number[];
}

/** `calls` requests of one variant from `concurrency` closed loops, added to `tally`. */
async function block(
  pool: Pool,
  pid: number,
  variant: Variant,
  concurrency: number,
  calls: number,
  tally: Tally,
): Promise<void> {
  const { path, body, allowed } = VARIANTS[variant];
  let next = 0;
  const loop = async (): Promise<void> => {
    for (;;) {
      if (next++ >= calls) return;
      const t0 = performance.now();
      const res = await pool.request({
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await res.body.text();
      tally.latencies.push(performance.now() - t0);
      if (res.statusCode !== 200 || !allowed(text)) throw new Error(`${variant}: ${res.statusCode} ${text}`);
    }
  };
  const cpu0 = cpuMs(pid);
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  tally.wallMs += performance.now() - start;
  tally.cpuMs += cpuMs(pid) - cpu0;
}

/** One round: both variants, `calls` each, interleaved in blocks. */
async function round(
  pool: Pool,
  pid: number,
  concurrency: number,
  calls: number,
): Promise<Record<Variant, Round>> {
  const tallies: Record<Variant, Tally> = {
    native: { wallMs: 0, cpuMs: 0, latencies: [] },
    authzen: { wallMs: 0, cpuMs: 0, latencies: [] },
  };
  for (let done = 0, b = 0; done < calls; done += BLOCK, b++) {
    const n = Math.min(BLOCK, calls - done);
    const order: Variant[] = b % 2 === 0 ? ['native', 'authzen'] : ['authzen', 'native'];
    for (const v of order) await block(pool, pid, v, concurrency, n, tallies[v]);
  }
  const result = {} as Record<Variant, Round>;
  for (const v of Object.keys(tallies) as Variant[]) {
    const t = tallies[v];
    t.latencies.sort((a, b) => a - b);
    result[v] = {
      nsPerCall: (t.wallMs * 1e6) / calls,
      p50Us: t.latencies[t.latencies.length >> 1]! * 1000,
      cpuUsPerCall: (t.cpuMs * 1000) / calls,
    };
  }
  return result;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const { child, http } = await startServer();
  const pid = child.pid!;
  try {
    for (const concurrency of CONCURRENCIES) {
      const pool = new Pool(`http://${http}`, { connections: concurrency });
      // Warm-up: JIT both paths before anything is recorded.
      await round(pool, pid, concurrency, Math.min(CALLS, 2000));
      const rounds: Round[][] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const got = await round(pool, pid, concurrency, CALLS);
        rounds.push([got.native, got.authzen]);
      }
      await pool.close();
      const wallRatio = median(rounds.map(([n, a]) => a!.nsPerCall / n!.nsPerCall));
      const cpuRatio = median(rounds.map(([n, a]) => a!.cpuUsPerCall / n!.cpuUsPerCall));
      console.log(
        `\nconcurrency ${concurrency}, ${ROUNDS} rounds of ${CALLS} calls per variant, blocks of ${BLOCK}`,
      );
      console.log('| variant | calls/s | p50 µs | server CPU µs/call | wall time ratio | server CPU ratio |');
      console.log('|---|---:|---:|---:|---:|---:|');
      (['native', 'authzen'] as const).forEach((v, i) => {
        const perSecond = median(rounds.map((x) => 1e9 / x[i]!.nsPerCall));
        const p50 = median(rounds.map((x) => x[i]!.p50Us));
        const cpu = median(rounds.map((x) => x[i]!.cpuUsPerCall));
        const ratios = i === 0 ? ['1.000', '1.000'] : [wallRatio.toFixed(3), cpuRatio.toFixed(3)];
        console.log(
          `| ${v} | ${Math.round(perSecond)} | ${p50.toFixed(1)} | ${cpu.toFixed(1)} | ${ratios[0]} | ${ratios[1]} |`,
        );
      });
      console.log(
        `per-round wall ratios: ${rounds.map(([n, a]) => (a!.nsPerCall / n!.nsPerCall).toFixed(3)).join(' ')}`,
      );
      console.log(
        `per-round CPU ratios: ${rounds.map(([n, a]) => (a!.cpuUsPerCall / n!.cpuUsPerCall).toFixed(3)).join(' ')}`,
      );
    }
  } finally {
    child.kill('SIGTERM');
  }
}

await main();
