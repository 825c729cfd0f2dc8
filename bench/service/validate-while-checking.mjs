// What ValidatePolicies costs the event loop that answers checks: four validations of a large
// policy set compiled the old way (on the main thread) and through the PolicyValidator worker,
// each while a 10 ms timer measures how long the loop is held. Run after `npm run build`:
//   node bench/service/validate-while-checking.mjs [--rows 80000]
import { monitorEventLoopDelay } from 'node:perf_hooks';

const dist = new URL('../../server/dist/', import.meta.url);
const { PolicyValidator } = await import(new URL('service/policy-validator.js', dist).href);
const { compilePolicySet } = await import(new URL('policy/index.js', dist).href);

const rowsFlag = process.argv.indexOf('--rows');
const rows = rowsFlag > 0 ? Number(process.argv[rowsFlag + 1]) : 80_000;
const schema = [
  'kind: schema',
  'types:',
  '  user: {}',
  '  group:',
  '    relations:',
  '      member: user or group#member',
  '  document:',
  '    relations:',
  '      owner: user',
  '      viewer: user or group#member',
  '    permissions:',
  '      view: owner or viewer',
  '',
].join('\n');
const lines = ['kind: relationships', 'relationships:'];
for (let i = 0; i < rows; i++) lines.push(`  - document:doc${i}#viewer@group:g${i % 997}#member`);
const files = [
  { path: 's.yaml', content: schema },
  { path: 'd.yaml', content: `${lines.join('\n')}\n` },
];
const bytes = files.reduce((n, f) => n + f.content.length, 0);

/** Runs `work`, reporting the longest event-loop stall and how many 10 ms ticks got through. */
async function measure(label, work) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const start = performance.now();
  await work();
  const wallMs = performance.now() - start;
  clearInterval(timer);
  delay.disable();
  return {
    label,
    wallMs: Math.round(wallMs),
    maxLoopStallMs: Math.round(delay.max / 1e6),
    ticksOf10ms: ticks,
    expectedTicks: Math.floor(wallMs / 10),
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
  };
}

const before = await measure('main thread x4 (before)', async () => {
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setImmediate(r));
    compilePolicySet(files);
  }
});
const validator = new PolicyValidator({ maxInputBytes: 16 << 20, workers: 1, maxQueued: 4 });
const after = await measure('worker x4 (after)', () =>
  Promise.all([1, 2, 3, 4].map(() => validator.validate(files))),
);
await validator.close();
console.log(JSON.stringify({ inputBytes: bytes, rows }));
console.table([before, after]);
