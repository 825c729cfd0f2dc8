// Footprint of `gatehouse serve`: time from spawn to ready (wall, and CPU seconds used by then)
// and resident memory once ready (after a short settle), started as `npm start` starts it.
// Three ways to get the relationships in:
//   --mode files  the policy directory's data files (default);
//   --mode api    a directory with the schema only, then every line of --data written through
//                 HTTP WriteRelationships in batches (ready = the last write acknowledged);
//   --mode redis  a redis-server of its own on a free port (never 6379): a first `serve --redis`
//                 seeds it from the policy directory and publishes its compiled graph, then each
//                 measured run is a replica that starts from that compiled snapshot.
// Run (after `npm run build`):
//   node --import tsx bench/datasets/cli.ts --dataset group-visibility --size M --out /tmp/gv-M
//   node --import tsx bench/footprint/footprint-bench.ts --policies /tmp/gv-M [--runs 3] [--settle-ms 3000] [--steady-ms 12000]
//     [--mode files|api|redis] [--data /tmp/gv-M/data.txt] [--batch 1000]
//     [--server OTHER/server/dist/cli/main.js]   (another build, e.g. `git archive` of a base commit)
//     [--redis-seed writes --data FILE]   (--mode redis: seed Redis with batched writes of FILE's lines
//     instead of the seeder's one seed script, which outlives its timeout on a loaded host; every
//     `serve` then gets the schema only)
//     [--redis-cluster N]   (--mode redis: a Cluster of N masters on loopback instead of one redis-server)
//     [--serve-arg=--data-dir=DIR]   (more arguments for every `serve`; with a data dir, the first
//     run seeds DIR from the files and later runs restart from it)
import { spawn } from 'node:child_process';
import { copyFileSync, createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { RedisStore } from '../../server/src/store/redis/redis-store.js';
import { RedisCluster, RedisServer } from '../../test/support/redis-server.js';

const { values } = parseArgs({
  options: {
    policies: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'settle-ms': { type: 'string', default: '3000' },
    /**
     * Steady RSS is read this long after ready (0: not read). V8 shrinks a heap grown by the load
     * (its young generation's 16 MiB semi-spaces) only in the memory reducer's collection, 8 s
     * after the last full one: an idle sidecar's resident memory from then on.
     */
    'steady-ms': { type: 'string', default: '12000' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    /** More arguments for every `serve` (e.g. `--serve-arg=--data-dir=/tmp/dd`). */
    'serve-arg': { type: 'string', multiple: true, default: [] },
    mode: { type: 'string', default: 'files' },
    /** --mode api: the relationships to write, one per line. */
    data: { type: 'string' },
    batch: { type: 'string', default: '1000' },
    'redis-seed': { type: 'string', default: 'serve' },
    'redis-cluster': { type: 'string' },
    /**
     * Another build's entry point, for a before/after compare in one run; given more than once, the
     * builds alternate run by run (with --mode redis, every build's replicas start from the one
     * seeded Redis, in turn).
     */
    server: { type: 'string', multiple: true, default: ['server/dist/cli/main.js'] },
  },
});
const mode = values.mode as 'files' | 'api' | 'redis';
if (
  values.policies === undefined ||
  !['files', 'api', 'redis'].includes(mode) ||
  (mode === 'api' && values.data === undefined)
) {
  process.stderr.write(
    'usage: footprint-bench.ts --policies DIR [--mode files|api|redis] [--data FILE (api)] [--runs N] [--settle-ms MS]\n',
  );
  process.exit(2);
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

/**
 * Resident memory by kind (/proc/PID/smaps_rollup): anonymous (the process's own: heap, buffers,
 * malloc) and file-backed (pages of the node binary and libraries, shared with every process
 * mapping them and reclaimable under pressure). RSS is their sum.
 */
function residentKinds(pid: number): { anonymousMb: number; fileMb: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  const anonymousMb = kb('Anonymous') / 1024;
  return { anonymousMb, fileMb: kb('Rss') / 1024 - anonymousMb };
}

/** CPU seconds (user + system) the process has used: on a shared machine, wall time alone misleads. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Row {
  readyMs: number;
  cpuS: number;
  rssMb: number;
  anonymousMb: number;
  fileMb: number;
  /** RSS and its anonymous part at --steady-ms after ready (NaN when not read). */
  steadyRssMb: number;
  steadyAnonymousMb: number;
  relationships: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  graphSnapshotLoaded?: number;
}

interface Started {
  child: ReturnType<typeof spawn>;
  http: string;
  relationships: number;
  graphSnapshotLoaded?: number;
  t0: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Spawns `serve` and waits for its `ready` line and /readyz 200. */
async function startServe(
  policies: string,
  extra: readonly string[] = [],
  server: string = values.server![0]!,
): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--no-allocation-site-pretenuring',
      ...(values['node-arg'] ?? []),
      server,
      'serve',
      '--policies',
      policies,
      '--http',
      '127.0.0.1:0',
      '--grpc',
      '127.0.0.1:0',
      '--log-level',
      'warn',
      ...(values['serve-arg'] ?? []),
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const ready = await new Promise<{ http: string; relationships: number; graphSnapshotLoaded?: number }>(
    (resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        for (const line of out.split('\n')) {
          if (!line.includes('"ready"')) continue;
          const parsed = JSON.parse(line) as { msg: string; http: string; relationships: number };
          if (parsed.msg === 'ready') resolve(parsed);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
    },
  );
  // The `ready` line follows the listeners binding; /readyz confirms the service answers.
  for (;;) {
    const res = await fetch(`http://${ready.http}/readyz`).catch(() => undefined);
    if (res?.status === 200) break;
    await sleep(5);
  }
  return { child, t0, ...ready };
}

async function stop(child: Started['child']): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/** Writes every relationship of `file` through HTTP, `batch` touches per call; returns how many. */
async function writeAll(http: string, file: string, batch: number): Promise<number> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let updates: unknown[] = [];
  let written = 0;
  const flush = async (): Promise<void> => {
    const res = await fetch(`http://${http}/v1/relationships/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ updates }),
    });
    if (res.status !== 200) throw new Error(`write failed: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
    written += updates.length;
    updates = [];
  };
  for await (const raw of lines) {
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) continue;
    const r = parseRelationship(text);
    updates.push({
      operation: 'OPERATION_TOUCH',
      relationship: {
        resource: { objectType: r.resource.type, objectId: r.resource.id },
        relation: r.relation,
        subject: {
          object: { objectType: r.subject.type, objectId: r.subject.id },
          ...(r.subject.relation === undefined ? {} : { optionalRelation: r.subject.relation }),
        },
      },
    });
    if (updates.length >= batch) await flush();
  }
  if (updates.length > 0) await flush();
  return written;
}

/** A temp directory holding the policy directory's schema files only (no data files). */
function schemaOnly(dir: string): string {
  const out = mkdtempSync(join(tmpdir(), 'gatehouse-footprint-'));
  for (const name of readdirSync(dir)) {
    if (!/\.ya?ml$/.test(name)) continue;
    if (/^kind:\s*schema\s*$/m.test(readFileSync(join(dir, name), 'utf8')))
      copyFileSync(join(dir, name), join(out, name));
  }
  return out;
}

/** Measures one started server once it holds its relationships (`readyAt`: performance.now()). */
async function measure(s: Started, readyAt: number, relationships: number): Promise<Row> {
  const readyMs = readyAt - s.t0;
  const cpuS = cpuSeconds(s.child.pid!);
  await sleep(Number(values['settle-ms']));
  const rssMb = rssBytes(s.child.pid!) / 2 ** 20;
  const { anonymousMb, fileMb } = residentKinds(s.child.pid!);
  // Where the resident memory is, from the server's own process metrics.
  const metrics = await (await fetch(`http://${s.http}/metrics`)).text();
  const mb = (name: string): number =>
    Math.round(
      Number(new RegExp(`^(?:gatehouse_)?${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? Number.NaN) / 2 ** 20,
    );
  const row: Row = {
    readyMs,
    cpuS,
    rssMb,
    anonymousMb,
    fileMb,
    relationships,
    heapUsedMb: mb('nodejs_heap_size_used_bytes'),
    heapTotalMb: mb('nodejs_heap_size_total_bytes'),
    externalMb: mb('nodejs_external_memory_bytes'),
    steadyRssMb: Number.NaN,
    steadyAnonymousMb: Number.NaN,
    ...(s.graphSnapshotLoaded === undefined ? {} : { graphSnapshotLoaded: s.graphSnapshotLoaded }),
  };
  const steadyMs = Number(values['steady-ms']);
  if (steadyMs > 0) {
    await sleep(Math.max(0, readyAt + steadyMs - performance.now()));
    row.steadyRssMb = rssBytes(s.child.pid!) / 2 ** 20;
    row.steadyAnonymousMb = residentKinds(s.child.pid!).anonymousMb;
  }
  await stop(s.child);
  return row;
}

async function onceFromFiles(server: string): Promise<Row> {
  const s = await startServe(values.policies!, [], server);
  return measure(s, performance.now(), s.relationships);
}

async function onceFromApi(dir: string, server: string): Promise<Row> {
  // A write waits behind the ones before it; on a loaded host the default 5 s deadline can pass
  // before the store is asked (seen at 10M, load ~24), which measures the host, not the store.
  const s = await startServe(dir, ['--default-deadline-ms', '120000'], server);
  let written: number;
  try {
    written = await writeAll(s.http, values.data!, Number(values.batch));
  } catch (err) {
    await stop(s.child); // a failed load must not leave its server running
    throw err;
  }
  return measure(s, performance.now(), written);
}

/** Writes every line of `file` into the Redis store `default` at `url`, `batch` touches per script. */
async function seedByWrites(url: string, file: string, batch: number): Promise<void> {
  const store = await RedisStore.connect({ url, storeName: 'default', commandTimeoutMs: 60_000 });
  try {
    const lines = createInterface({
      input: createReadStream(file, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    });
    let updates: { operation: 'touch'; relationship: ReturnType<typeof parseRelationship> }[] = [];
    for await (const raw of lines) {
      const text = raw.trim();
      if (text === '' || text.startsWith('#')) continue;
      updates.push({ operation: 'touch', relationship: parseRelationship(text) });
      if (updates.length >= batch) {
        await store.write(updates);
        updates = [];
      }
    }
    if (updates.length > 0) await store.write(updates);
  } finally {
    await store.close();
  }
}

/** Replica runs of each build in turn (`runs` each), all from one seeded Redis. */
async function redisRuns(runs: number): Promise<Map<string, Row[]>> {
  const servers = values.server!;
  const masters = values['redis-cluster'] === undefined ? 0 : Number(values['redis-cluster']);
  const redis = masters > 0 ? await RedisCluster.start(masters) : await RedisServer.start();
  try {
    const url = redis instanceof RedisCluster ? redis.url : `redis://127.0.0.1:${redis.port}`;
    let policies = values.policies!;
    if (values['redis-seed'] === 'writes') {
      await seedByWrites(url, values.data!, Number(values.batch));
      policies = schemaOnly(policies);
    }
    // The seeder (the last build given) loads the data into Redis and publishes the compiled graph it builds.
    const seeder = await startServe(policies, ['--redis', url], servers.at(-1));
    const rows = new Map<string, Row[]>(servers.map((s) => [s, []]));
    // Publishing runs in the background after the seeder's build: retry until a replica loads it.
    for (let attempt = 0; attempt < runs * servers.length + 20; attempt++) {
      const server = servers.find(
        (s) => rows.get(s)!.length === Math.min(...servers.map((x) => rows.get(x)!.length)),
      )!;
      if (rows.get(server)!.length >= runs) break;
      const s = await startServe(policies, ['--redis', url], server);
      const readyAt = performance.now();
      if (s.graphSnapshotLoaded !== 1) {
        await stop(s.child);
        await sleep(2000);
        continue;
      }
      rows.get(server)!.push(await measure(s, readyAt, s.relationships));
    }
    await stop(seeder.child);
    return rows;
  } finally {
    await redis.stop();
  }
}

const runs = Number(values.runs);
const byServer = new Map<string, Row[]>();
if (mode === 'redis') for (const [server, rs] of await redisRuns(runs)) byServer.set(server, rs);
else {
  const dir = mode === 'api' ? schemaOnly(values.policies!) : undefined;
  for (const server of values.server!) byServer.set(server, []);
  try {
    // Builds alternate run by run (A B A B…), so a change in the host's load falls on both.
    for (let i = 0; i < runs; i++) {
      for (const server of values.server!) {
        byServer
          .get(server)!
          .push(await (dir === undefined ? onceFromFiles(server) : onceFromApi(dir, server)));
      }
    }
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [server, rows] of byServer) {
  if (rows.length === 0) throw new Error(`no run of ${server} completed`);
  const relationships = rows[0]!.relationships;
  const perMillion = 1e6 / relationships;
  console.log(
    JSON.stringify({
      mode,
      server,
      relationships,
      readyS: Number((median(rows.map((r) => r.readyMs)) / 1000).toFixed(2)),
      readySPerM: Number(((median(rows.map((r) => r.readyMs)) / 1000) * perMillion).toFixed(2)),
      readyCpuS: Number(median(rows.map((r) => r.cpuS)).toFixed(2)),
      readyCpuSPerM: Number((median(rows.map((r) => r.cpuS)) * perMillion).toFixed(2)),
      rssMb: Math.round(median(rows.map((r) => r.rssMb))),
      rssMbPerM: Math.round(median(rows.map((r) => r.rssMb)) * perMillion),
      // Of RSS: anonymous (the process's own) and file-backed (the node binary's pages, shared).
      anonymousMb: Math.round(median(rows.map((r) => r.anonymousMb))),
      fileBackedMb: Math.round(median(rows.map((r) => r.fileMb))),
      // Once V8's memory reducer has shrunk what the load grew (--steady-ms after ready).
      steadyRssMb: Math.round(median(rows.map((r) => r.steadyRssMb))),
      steadyRssMbPerM: Math.round(median(rows.map((r) => r.steadyRssMb)) * perMillion),
      steadyAnonymousMb: Math.round(median(rows.map((r) => r.steadyAnonymousMb))),
      // Per run: ms to ready, CPU s to ready, RSS at --settle-ms, RSS at --steady-ms.
      runs: rows.map((r) => [Math.round(r.readyMs), r.cpuS, Math.round(r.rssMb), Math.round(r.steadyRssMb)]),
      lastRunHeapUsedTotalExternalMb: [
        rows.at(-1)!.heapUsedMb,
        rows.at(-1)!.heapTotalMb,
        rows.at(-1)!.externalMb,
      ],
    }),
  );
}
