// Gatehouse replicas on one Redis, end to end through the SDK over gRPC, each figure next to its
// reference measured in the same run (alternated in rounds, medians reported):
// 1. write visibility: single-relationship writes through replica A paced at --rate writes/s;
//    for each, a check on replica B at least as fresh as the write's token is sent as soon as
//    the write is acknowledged: "issued on A → answered from B's graph" (write and check
//    round trips included, so an upper bound on the replication delay), the write's own
//    acknowledgement time beside it, and the share of a core each process (this load generator,
//    A, B, Redis) used meanwhile: whether the host, not replication, sets the figure; and the
//    replication delay itself, from B's gatehouse_replication_delay_seconds histogram (each
//    change set's commit in Redis, Redis TIME to the microsecond, to B applying it; same host,
//    same clock): read before and after each round, so a round's figures are its own writes';
// 2. checks/s at c=--concurrency: a replica with Redis attached vs one on the memory store,
//    both serving the same policy directory; besides the rounds, --check-pairs pairs of
//    --check-seconds runs, back to back with no writes between them and the order alternating
//    within each pair, reported as the median of the per-pair ratios, and each server's own CPU
//    per check (/proc: user + system of the server process over its runs), which the shared
//    client and host noise do not move;
// 3. single-relationship writes/s at c=--concurrency through a replica vs the gRPC echo floor's
//    calls/s (bench/harness/targets/grpc-echo-server.ts: decode, constant answer): unary Check
//    calls from a client with batching off, one RPC per call like a write. The SDK's default
//    client would send the closed loop's concurrent checks as one CheckBatch (16 answers per
//    call at c=16), which is reported beside it but is not the floor a write RPC is held to.
// Beside each closed-loop rate: the CPU the serving process spent per call (Linux /proc), and for
// writes Redis's own CPU per write (INFO cpu): steadier than calls/s on a loaded host.
// Starts its own redis-server on a free loopback port and stops everything it started.
//
//   npm run build && npx tsx bench/redis-fleet.ts [--rate 1000] [--seconds 5] [--concurrency 16] [--rounds 3]
//     [--check-pairs 10] [--check-seconds 2]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { type GatehouseProcess, startGatehouse, TOKEN } from '../test/e2e/support/gatehouse-process.js';
import { createGrpcTransport, GatehouseClient } from '../test/e2e/support/sdk.js';
import { startFleet } from '../test/support/gatehouse-fleet.js';
import { RedisServer } from '../test/support/redis-server.js';
import { formatEndpoint } from './harness/endpoint.js';
import { startTarget, tsxCommand } from './harness/targets/process-target.js';
import { redisCpuSeconds } from './store/redis-cpu.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    'check-pairs': { type: 'string', default: '10' },
    'check-seconds': { type: 'string', default: '2' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const ECHO = fileURLToPath(new URL('./harness/targets/grpc-echo-server.ts', import.meta.url));

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

function grpcClient(address: string, batching = true): GatehouseClient {
  return new GatehouseClient(createGrpcTransport({ address, token: TOKEN }), {
    retries: false,
    defaultTimeoutMs: 60_000,
    batching,
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function processCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface LoopResult {
  readonly perSecond: number;
  /** The serving process's CPU per call, µs. */
  readonly serverCpuUs: number;
  readonly calls: number;
}

/** Closed loop: `concurrency` callers repeat `call` for `secs`; calls/s and the server's CPU per call. */
async function closedLoop(
  pid: number,
  call: (i: number) => Promise<unknown>,
  secs = seconds,
): Promise<LoopResult> {
  let n = 0;
  const cpu0 = processCpu(pid);
  const end = performance.now() + secs * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await call(n++);
    }),
  );
  return { perSecond: n / secs, serverCpuUs: ((processCpu(pid) - cpu0) * 1e6) / n, calls: n };
}

/**
 * Checks on the Redis replica vs the memory store in `pairs` back-to-back pairs (order alternating),
 * nothing else running: per-pair ratios, and each server's CPU per check over all its runs.
 */
async function checkPairs(
  onRedis: { client: GatehouseClient; pid: number },
  onMemory: { client: GatehouseClient; pid: number },
  check: string,
  pairs: number,
  secs: number,
): Promise<void> {
  const ratios: number[] = [];
  const cpu = { redis: 0, memory: 0 };
  const calls = { redis: 0, memory: 0 };
  const one = async (side: 'redis' | 'memory'): Promise<number> => {
    const target = side === 'redis' ? onRedis : onMemory;
    const run = await closedLoop(target.pid, () => target.client.check(check), secs);
    cpu[side] += (run.serverCpuUs * run.calls) / 1e6;
    calls[side] += run.calls;
    return run.perSecond;
  };
  const loads: string[] = [];
  for (let i = 0; i < pairs; i++) {
    let r: number;
    let m: number;
    if (i % 2 === 0) {
      r = await one('redis');
      m = await one('memory');
    } else {
      m = await one('memory');
      r = await one('redis');
    }
    ratios.push(r / m);
    loads.push(loadavg()[0]!.toFixed(1));
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(
    `check pairs (${pairs} × ${secs} s each side, c=${concurrency}, alternating order): Redis / memory checks/s per pair, median ${median(ratios).toFixed(3)} (quartiles ${quantile(sorted, 0.25).toFixed(3)}-${quantile(sorted, 0.75).toFixed(3)}; pairs ${ratios.map((x) => x.toFixed(2)).join('/')}; 1-min load ${loads.join('/')})`,
  );
  const us = (side: 'redis' | 'memory'): number => (cpu[side] / calls[side]) * 1e6;
  console.log(
    `server CPU per check: Redis replica ${us('redis').toFixed(1)} µs, memory store ${us('memory').toFixed(1)} µs (memory / Redis ${(us('memory') / us('redis')).toFixed(3)}: the throughput ratio the servers themselves allow)`,
  );
}

/** gatehouse_replication_delay_seconds of a replica, from /metrics: upper bound (s) → cumulative count. */
async function delayBuckets(http: string): Promise<Map<number, number>> {
  const body = await (await fetch(`http://${http}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const m of body.matchAll(/^gatehouse_replication_delay_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)) {
    buckets.set(m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2]));
  }
  return buckets;
}

/** One round's delays (the difference of two readings): share within `bounds`, and quantiles. */
class DelayHistogram {
  readonly #bounds: number[];
  readonly #cumulative: number[];

  constructor(before: Map<number, number>, after: Map<number, number>) {
    this.#bounds = [...after.keys()].sort((x, y) => x - y);
    this.#cumulative = this.#bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  }

  get count(): number {
    return this.#cumulative.at(-1) ?? 0;
  }

  /** Share of the round's change sets applied within `seconds` (a bucket bound: exact). */
  within(seconds: number): number {
    const i = this.#bounds.indexOf(seconds);
    if (i < 0) throw new Error(`${seconds} s is not a bucket bound`);
    return (this.#cumulative[i] ?? 0) / this.count;
  }

  /** The q-quantile in ms, interpolated linearly inside its bucket (as PromQL's histogram_quantile). */
  quantileMs(q: number): number {
    const rank = q * this.count;
    let lower = 0;
    let below = 0;
    for (let i = 0; i < this.#bounds.length; i++) {
      const upper = this.#bounds[i] as number;
      const c = this.#cumulative[i] as number;
      if (c >= rank) {
        if (!Number.isFinite(upper)) return lower * 1000;
        return (lower + ((upper - lower) * (rank - below)) / Math.max(1, c - below)) * 1000;
      }
      lower = upper;
      below = c;
    }
    return Number.NaN;
  }
}

/** Writes on A paced at `rate`/s, each followed by an at-least-as-fresh check on B: latencies in ms. */
async function visibility(
  a: GatehouseClient,
  b: GatehouseClient,
  round: number | 'warm-up',
  secs = seconds,
): Promise<{ latencies: number[]; acks: number[]; failed: number }> {
  const latencies: number[] = [];
  const acks: number[] = [];
  let failed = 0;
  const total = rate * secs;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const rel = `group:vis${round}#member@user:v${i}`;
    pending.push(
      (async () => {
        const issued = performance.now();
        let writtenAt: Awaited<ReturnType<GatehouseClient['write']>>['writtenAt'];
        try {
          ({ writtenAt } = await a.write({ touch: [rel] }));
        } catch {
          // A write that failed (UNAVAILABLE from an overloaded host): counted, not timed.
          failed++;
          return;
        }
        acks.push(performance.now() - issued);
        const answer = await b.check(rel, { consistency: { atLeastAsFresh: writtenAt } });
        if (!answer.allowed) throw new Error(`replica B did not see ${rel}`);
        latencies.push(performance.now() - issued);
      })(),
    );
  }
  await Promise.all(pending);
  return { latencies, acks, failed };
}

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const fleet = await startFleet({ redisUrl: redis.url, replicas: 2, store: 'bench' });
  const memory: GatehouseProcess = await startGatehouse();
  const { command, args } = tsxCommand(ECHO, ['--grpc', '127.0.0.1:0']);
  const echo = await startTarget({ name: 'grpc-echo', command, args });
  const [a, b] = fleet.replicas.map((r) => grpcClient(r.grpc)) as [GatehouseClient, GatehouseClient];
  const onMemory = grpcClient(memory.grpc);
  if (echo.grpc === undefined) throw new Error('the echo server reported no gRPC address');
  const onEcho = grpcClient(formatEndpoint(echo.grpc));
  // One RPC per check: the echo floor a single write (one RPC) is compared with.
  const onEchoUnary = grpcClient(formatEndpoint(echo.grpc), false);
  const clients = [a, b, onMemory, onEcho, onEchoUnary];
  const admin = new Redis(redis.port, '127.0.0.1');
  const [pidA, pidB] = fleet.replicas.map((r) => r.child.pid ?? 0) as [number, number];
  const pidMemory = memory.child.pid ?? 0;
  const rows: Record<string, number[]> = {};
  const record = (name: string, value: number): void => {
    rows[name] = [...(rows[name] ?? []), value];
  };
  try {
    const check = 'contact:prospect1#view@user:mike';
    if (!(await a.check(check)).allowed || !(await onMemory.check(check)).allowed) {
      throw new Error(`the fixture policies should allow ${check}`);
    }
    // First, before any write lands on the replicas: checks alone, in alternating pairs.
    await closedLoop(pidB, () => b.check(check), 1);
    await closedLoop(pidMemory, () => onMemory.check(check), 1);
    await checkPairs(
      { client: b, pid: pidB },
      { client: onMemory, pid: pidMemory },
      check,
      Number(values['check-pairs']),
      Number(values['check-seconds']),
    );
    const p50s: number[] = [];
    const p99s: number[] = [];
    const ackP50s: number[] = [];
    const ackP99s: number[] = [];
    const delays: DelayHistogram[] = [];
    const httpB = fleet.replicas[1]?.http as string;
    // Share of a core each process used during the visibility phases: is the load generator itself the bottleneck?
    const busy = { client: 0, a: 0, b: 0, redis: 0, wall: 0 };
    let failedWrites = 0;
    // One second of the same load first, not recorded: the first round would otherwise also
    // time the replicas' JIT warming up on the write and apply paths.
    await visibility(a, b, 'warm-up', 1);
    for (let round = 0; round < rounds; round++) {
      const before = {
        client: process.cpuUsage(),
        a: processCpu(pidA),
        b: processCpu(pidB),
        redis: await redisCpuSeconds(admin),
        at: performance.now(),
      };
      const delaysBefore = await delayBuckets(httpB);
      const { latencies: lat, acks, failed } = await visibility(a, b, round);
      delays.push(new DelayHistogram(delaysBefore, await delayBuckets(httpB)));
      const client = process.cpuUsage(before.client);
      busy.client += (client.user + client.system) / 1e6;
      busy.a += processCpu(pidA) - before.a;
      busy.b += processCpu(pidB) - before.b;
      busy.redis += (await redisCpuSeconds(admin)) - before.redis;
      busy.wall += (performance.now() - before.at) / 1000;
      failedWrites += failed;
      p50s.push(quantile(lat, 0.5));
      p99s.push(quantile(lat, 0.99));
      ackP50s.push(quantile(acks, 0.5));
      ackP99s.push(quantile(acks, 0.99));
      // Rotate the order of the closed-loop phases so each sees the same share of machine noise.
      const phases: [string, () => Promise<void>][] = [
        [
          'checks/s, Redis attached',
          async () => {
            const r = await closedLoop(pidB, () => b.check(check));
            record('checks/s, Redis attached', r.perSecond);
            record('… replica CPU per check, µs', r.serverCpuUs);
          },
        ],
        [
          'checks/s, memory store',
          async () => {
            const r = await closedLoop(pidMemory, () => onMemory.check(check));
            record('checks/s, memory store', r.perSecond);
            record('… memory-store server CPU per check, µs', r.serverCpuUs);
          },
        ],
        [
          'single-relationship writes/s through a replica',
          async () => {
            const redis0 = await redisCpuSeconds(admin);
            const r = await closedLoop(pidA, (i) =>
              a.write({ touch: [`group:w${round}#member@user:c${i}`] }),
            );
            record('single-relationship writes/s through a replica', r.perSecond);
            record('… replica CPU per write, µs', r.serverCpuUs);
            record('… Redis CPU per write, µs', (((await redisCpuSeconds(admin)) - redis0) * 1e6) / r.calls);
          },
        ],
        [
          'gRPC echo floor calls/s (unary Check, batching off)',
          async () => {
            const r = await closedLoop(echo.pid, () => onEchoUnary.check(check));
            record('gRPC echo floor calls/s (unary Check, batching off)', r.perSecond);
            record('… echo server CPU per call, µs', r.serverCpuUs);
          },
        ],
        [
          'gRPC echo floor checks/s, batched by the SDK (for reference)',
          async () => {
            const r = await closedLoop(echo.pid, () => onEcho.check(check));
            record('gRPC echo floor checks/s, batched by the SDK (for reference)', r.perSecond);
            record('… echo server CPU per CheckBatch item, µs', r.serverCpuUs);
          },
        ],
      ];
      for (let k = 0; k < phases.length; k++) {
        const [, run] = phases[(k + round) % phases.length]!;
        await run();
      }
    }
    const load = loadavg()
      .map((x) => x.toFixed(1))
      .join(' ');
    console.log(
      `load average ${load}; ${rounds} rounds of ${seconds} s, c=${concurrency}, visibility at ${rate} writes/s`,
    );
    console.log(`visibility writes that failed (not timed): ${failedWrites}`);
    console.log(
      `write on A → visible on B (at_least_as_fresh check answered): p50 ${median(p50s).toFixed(2)} ms, p99 ${median(p99s).toFixed(2)} ms (medians of the rounds' p50 and p99; rounds: ${p50s.map((x) => x.toFixed(2)).join('/')} | ${p99s.map((x) => x.toFixed(2)).join('/')})`,
    );
    console.log(
      `… of which the write on A, issued → acknowledged: p50 ${median(ackP50s).toFixed(2)} ms, p99 ${median(ackP99s).toFixed(2)} ms`,
    );
    const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
    console.log(
      `replication delay, commit in Redis → applied on B (B's gatehouse_replication_delay_seconds, per round): p50 ${delays.map((d) => d.quantileMs(0.5).toFixed(2)).join('/')} ms, p99 ${delays.map((d) => d.quantileMs(0.99).toFixed(2)).join('/')} ms (interpolated in buckets); within 2 ms ${delays.map((d) => pct(d.within(0.002))).join('/')}, within 10 ms ${delays.map((d) => pct(d.within(0.01))).join('/')} (exact: bucket bounds); change sets ${delays.map((d) => d.count).join('/')}`,
    );
    const share = (cpu: number): string => `${Math.round((100 * cpu) / busy.wall)}%`;
    console.log(
      `… CPU during the visibility phases, share of one core: load generator ${share(busy.client)}, replica A ${share(busy.a)}, replica B ${share(busy.b)}, Redis ${share(busy.redis)}`,
    );
    for (const [name, xs] of Object.entries(rows)) {
      console.log(`${name}: ${Math.round(median(xs))} (rounds ${xs.map(Math.round).join('/')})`);
    }
    const ratio = (x: string, y: string): string =>
      (median(rows[x] ?? []) / median(rows[y] ?? [])).toFixed(2);
    console.log(
      `checks with Redis / memory store: ${ratio('checks/s, Redis attached', 'checks/s, memory store')}`,
    );
    const writes = rows['single-relationship writes/s through a replica'] ?? [];
    const echoCalls = rows['gRPC echo floor calls/s (unary Check, batching off)'] ?? [];
    const perRound = writes.map((w, i) => w / (echoCalls[i] ?? Number.NaN));
    console.log(
      `writes / echo floor calls: ${ratio('single-relationship writes/s through a replica', 'gRPC echo floor calls/s (unary Check, batching off)')} (medians); per round ${perRound.map((x) => x.toFixed(2)).join('/')}, median ${median(perRound).toFixed(2)}`,
    );
  } finally {
    admin.disconnect();
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([fleet.stop(), memory.stop(), echo.stop()]);
    await redis.stop();
  }
}

await main();
