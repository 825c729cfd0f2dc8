// Footprint of `gatehouse serve`: time from spawn to /readyz 200 (wall, and CPU seconds used by
// then) and resident memory once ready (after a short settle), started as `npm start` starts it, from a policy directory.
// Run (after `npm run build`):
//   node --import tsx bench/datasets/cli.ts --dataset group-visibility --size M --out /tmp/gv-M
//   node --import tsx bench/footprint/footprint-bench.ts --policies /tmp/gv-M [--runs 3] [--settle-ms 3000]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    policies: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'settle-ms': { type: 'string', default: '3000' },
    'node-arg': { type: 'string', multiple: true, default: [] },
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function once(): Promise<{ readyMs: number; cpuS: number; rssMb: number; relationships: number }> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--no-allocation-site-pretenuring',
      ...(values['node-arg'] ?? []),
      'server/dist/cli/main.js',
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
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { readyMs, cpuS, rssMb, relationships: ready.relationships };
}

const rows: { readyMs: number; cpuS: number; rssMb: number; relationships: number }[] = [];
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
  }),
);
