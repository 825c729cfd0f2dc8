// A real server's /metrics carries prom-client's default Node process metrics (resident memory,
// heap, event-loop lag, GC) on its own registry, beside the request metrics, under their standard
// unprefixed names (`process_*`, `nodejs_*`), as every Prometheus client library serves them.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type GatehouseConfig } from '../../server/src/config/config.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { fixturePolicySet, TOKEN } from '../service/fixture.js';

let server: GatehouseServer;

beforeAll(async () => {
  const set = fixturePolicySet();
  const config: GatehouseConfig = {
    ...DEFAULT_CONFIG,
    http: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    grpc: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    token: TOKEN,
  };
  server = await GatehouseServer.start({
    config,
    schema: set.schema,
    store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await server.stop(1000);
});

/** The sample value of a metric without labels, or undefined if the text has none. */
function sample(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

describe('process metrics on /metrics', () => {
  it('exposes resident memory, heap, event-loop lag and GC under the standard unprefixed names', async () => {
    const res = await fetch(`http://${server.httpAddress}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const rss = sample(text, 'process_resident_memory_bytes');
    // Reported from /proc on Linux; the heap figures come from V8 everywhere.
    if (process.platform === 'linux') expect(rss).toBeGreaterThan(1 << 20);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_total_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_external_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^# TYPE nodejs_eventloop_lag_p99_seconds gauge$/m);
    expect(text).toMatch(/^# TYPE nodejs_gc_duration_seconds histogram$/m);
    expect(text).toMatch(/^process_cpu_seconds_total \S+$/m);
    // The request metrics share the registry.
    expect(sample(text, 'gatehouse_graph_relationships')).toBe(server.service.relationshipCount);
  });

  it('serves every family as gatehouse_*, process_* or nodejs_*, and no prefixed process metric', async () => {
    const text = await (await fetch(`http://${server.httpAddress}/metrics`)).text();
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string);
    expect(families).toContain('process_resident_memory_bytes');
    for (const name of families) expect(name).toMatch(/^(gatehouse|process|nodejs)_[a-z0-9_]+$/);
    expect(families.filter((n) => /^gatehouse_(process|nodejs)_/.test(n))).toEqual([]);
  });
});
