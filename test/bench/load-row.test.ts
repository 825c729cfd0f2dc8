// Paired measurement: Gatehouse and its floor are run in pairs, and the Gatehouse row carries
// the medians of the per-pair ratios. The measurements are handed in, so the arithmetic and the
// alternating order are checked exactly, whatever the machine's speed.
import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../../bench/cli/options.js';
import type { Endpoint, LoadSpec, LoadSummary } from '../../bench/harness/types.js';
import type { BenchContext } from '../../bench/suite/context.js';
import { measurePair } from '../../bench/suite/load-row.js';

function spec(port: number): LoadSpec {
  const endpoint: Endpoint = { kind: 'tcp', host: '127.0.0.1', port };
  return {
    transport: 'http',
    operation: 'check',
    endpoint,
    questions: [
      { resourceType: 'doc', resourceId: 'd1', permission: 'view', subjectType: 'user', subjectId: 'u1' },
    ],
    batchSize: 1,
    lookupPageSize: 1,
    concurrency: 2,
    warmupMs: 50,
    durationMs: 400,
    timeoutMs: 2_000,
  };
}

function summary(callsPerSecond: number, p50Ms: number): LoadSummary {
  return {
    calls: callsPerSecond,
    decisions: callsPerSecond,
    errors: 0,
    errorSamples: [],
    elapsedMs: 1_000,
    callsPerSecond,
    decisionsPerSecond: callsPerSecond,
    p50Ms,
    p90Ms: p50Ms,
    p99Ms: p50Ms,
    p999Ms: p50Ms,
    maxMs: p50Ms,
  };
}

describe('measurePair', () => {
  it('alternates which goes first and reports the medians of the per-pair ratio and p50 difference', async () => {
    const SLOW = 1;
    const FAST = 2;
    // Three pairs, by port: Gatehouse (slow) 100/50/90 calls/s at p50 20/30/21 ms; floor (fast)
    // 200/200/100 at 10/10/10 ms. Ratios 0.5, 0.25, 0.9 → median 0.5; deltas 10, 20, 11 → 11.
    const results = new Map([
      [SLOW, [summary(100, 20), summary(50, 30), summary(90, 21)]],
      [FAST, [summary(200, 10), summary(200, 10), summary(100, 10)]],
    ]);
    const order: number[] = [];
    const log: string[] = [];
    const ctx: BenchContext = {
      options: parseBenchOptions(['--repeat', '3']),
      log: (line) => log.push(line),
      rows: [],
      notes: [],
      versions: new Map(),
      runLoad: async (s) => {
        const port = s.endpoint.kind === 'tcp' ? s.endpoint.port : 0;
        order.push(port);
        return results.get(port)!.shift()!;
      },
    };
    const [g, f] = await measurePair(
      ctx,
      { label: { system: 'Gatehouse', transport: 'http' }, spec: spec(SLOW) },
      { label: { system: 'hono echo', transport: 'http' }, spec: spec(FAST) },
    );
    expect(order).toEqual([SLOW, FAST, FAST, SLOW, SLOW, FAST]);
    // One progress line per row, from its median run.
    expect(log.map((l) => l.trim().split(' ')[0])).toEqual(['Gatehouse', 'hono']);
    expect(g.system).toBe('Gatehouse');
    expect(f.system).toBe('hono echo');
    expect(f.vsFloor).toBeUndefined();
    expect(g.vsFloor).toEqual({ system: 'hono echo', throughputRatio: 0.5, p50DeltaMs: 11, pairs: 3 });
    // Each row keeps its own median run by throughput.
    expect([g.throughput, g.p50Ms]).toEqual([90, 21]);
    expect([f.throughput, f.p50Ms]).toEqual([200, 10]);
    expect(g.scenario).toBe('check');
  });
});
