// Footprint of `gatehouse serve`: time from spawn to /readyz 200 (wall, and CPU seconds used by
// then) and resident memory once ready (after a short settle), started as `npm start` starts it, from a policy directory.
// Run (after `npm run build`):
//   node --import tsx bench/datasets/cli.ts --dataset group-visibility --size M --out /tmp/gv-M
//   node --import tsx bench/footprint/footprint-bench.ts --policies /tmp/gv-M [--runs 3] [--settle-ms 3000]
//     [--server OTHER/server/dist/cli/main.js]   (another build, e.g. `git archive` of a base commit)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    policies: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'settle-ms': { type: 'string', default: '3000' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    /** Another build's entry point, for a before/after compare in one run. */
    server: { type: 'string', default: 'server/dist/cli/main.js' },
  },
});
if (values.policies === undefined) {
  process.stderr.write('usage: footprint-bench.ts --policies DIR [--runs N] [--settle-ms MS]\n');
  process.exit(2);
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
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
  relationships: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function once(): Promise<Row> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--no-allocation-site-pretenuring',
      ...(values['node-arg'] ?? []),
      values.server!,
      'serve',
      '--policies',
      values.policies!,
      '--http',
      '127.0.0.1:0',
      '--grpc',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const ready = await new Promise<{ http: string; relationships: number }>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('"ready"')) continue;
        const parsed = JSON.parse(line) as { msg: string; http: string; relationships: number };
        if (parsed.msg === 'ready') resolve(parsed);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  // The `ready` line follows the listeners binding; /readyz confirms the service answers.
  for (;;) {
    const res = await fetch(`http://${ready.http}/readyz`).catch(() => undefined);
    if (res?.status === 200) break;
    await sleep(5);
  }
  const readyMs = performance.now() - t0;
  const cpuS = cpuSeconds(child.pid!);
  await sleep(Number(values['settle-ms']));
  const rssMb = rssBytes(child.pid!) / 2 ** 20;
  // Where the resident memory is, from the server's own process metrics.
  const metrics = await (await fetch(`http://${ready.http}/metrics`)).text();
  const mb = (name: string): number =>
    Math.round(
      Number(new RegExp(`^gatehouse_${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? Number.NaN) / 2 ** 20,
    );
  const split = {
    heapUsedMb: mb('nodejs_heap_size_used_bytes'),
    heapTotalMb: mb('nodejs_heap_size_total_bytes'),
    externalMb: mb('nodejs_external_memory_bytes'),
  };
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { readyMs, cpuS, rssMb, relationships: ready.relationships, ...split };
}

const rows: Row[] = [];
for (let i = 0; i < Number(values.runs); i++) rows.push(await once());
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const relationships = rows[0]!.relationships;
const perMillion = 1e6 / relationships;
console.log(
  JSON.stringify({
    relationships,
    readyS: Number((median(rows.map((r) => r.readyMs)) / 1000).toFixed(2)),
    readySPerM: Number(((median(rows.map((r) => r.readyMs)) / 1000) * perMillion).toFixed(2)),
    readyCpuS: Number(median(rows.map((r) => r.cpuS)).toFixed(2)),
    rssMb: Math.round(median(rows.map((r) => r.rssMb))),
    rssMbPerM: Math.round(median(rows.map((r) => r.rssMb)) * perMillion),
    runs: rows.map((r) => [Math.round(r.readyMs), r.cpuS, Math.round(r.rssMb)]),
    lastRunHeapUsedTotalExternalMb: [
      rows.at(-1)!.heapUsedMb,
      rows.at(-1)!.heapTotalMb,
      rows.at(-1)!.externalMb,
    ],
  }),
);
