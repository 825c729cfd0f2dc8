// Measures what automatic batching saves: wall time and server RPCs for N concurrent checks,
// batched vs unbatched, over gRPC and HTTP, against a real `gatehouse serve` on loopback.
// Usage (after `npm run build`): node sdk/scripts/measure-batching.mjs [concurrent=1000] [rounds=7]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GatehouseClient } from '@gatehouse/sdk';
import { createGrpcTransport } from '@gatehouse/sdk/grpc';
import { createHttpTransport } from '@gatehouse/sdk/http';

const concurrent = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 7);
const main = fileURLToPath(new URL('../../server/dist/cli/main.js', import.meta.url));
const policies = fileURLToPath(new URL('../../test/e2e/fixtures/crm', import.meta.url));

const child = spawn(
  process.execPath,
  [main, 'serve', '--policies', policies, '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const ready = await new Promise((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`gatehouse serve exited with ${code}`)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      const entry = JSON.parse(line);
      if (entry.msg === 'ready') resolve(entry);
    } catch {}
  });
});

async function rpcs(transport) {
  const text = await (await fetch(`http://${ready.http}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('gatehouse_request_duration_seconds_count{') &&
      line.includes(`transport="${transport}"`)
    ) {
      if (line.includes('method="Check"') || line.includes('method="CheckBatch"'))
        total += Number(line.split(' ').at(-1));
    }
  }
  return total;
}

const users = ['mike', 'john', 'lena', 'olivia', 'stranger'];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const kind of ['grpc', 'http']) {
  for (const batching of [true, false]) {
    const transport =
      kind === 'grpc'
        ? createGrpcTransport({ address: ready.grpc })
        : createHttpTransport({ baseUrl: `http://${ready.http}` });
    const client = new GatehouseClient(transport, { batching, defaultTimeoutMs: 30_000 });
    const run = () =>
      Promise.all(
        Array.from({ length: concurrent }, (_, i) =>
          client.check(`contact:prospect1#view@user:${users[i % users.length]}`),
        ),
      );
    await run(); // warm-up: connections, JIT
    const before = await rpcs(kind);
    const times = [];
    for (let r = 0; r < rounds; r++) {
      const start = performance.now();
      await run();
      times.push(performance.now() - start);
    }
    const calls = ((await rpcs(kind)) - before) / rounds;
    rows.push({
      transport: kind,
      batching,
      concurrent,
      'median ms/round': median(times).toFixed(1),
      'RPCs/round': calls,
    });
    await client.close();
  }
}
console.table(rows);
child.kill('SIGTERM');
