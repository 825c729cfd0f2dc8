// Paired measurement: Gatehouse and its floor are run in pairs, and the Gatehouse row carries
// the medians of the per-pair ratios. Checked against two echo servers of known latency.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../../bench/cli/options.js';
import { type RunningTarget, startTarget, tsxCommand } from '../../bench/harness/targets/process-target.js';
import type { Endpoint, LoadSpec } from '../../bench/harness/types.js';
import type { BenchContext } from '../../bench/suite/context.js';
import { measurePair } from '../../bench/suite/load-row.js';

const HTTP_ECHO = fileURLToPath(new URL('../../bench/harness/targets/http-echo-server.ts', import.meta.url));

function spec(endpoint: Endpoint): LoadSpec {
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

describe('measurePair', () => {
  let slow: RunningTarget;
  let fast: RunningTarget;
  beforeAll(async () => {
    const start = (delay: string): Promise<RunningTarget> => {
      const { command, args } = tsxCommand(HTTP_ECHO, ['--http', '127.0.0.1:0', '--delay-ms', delay]);
      return startTarget({ name: `echo ${delay} ms`, command, args });
    };
    [slow, fast] = await Promise.all([start('20'), start('10')]);
  });
  afterAll(async () => {
    await Promise.all([slow?.stop(), fast?.stop()]);
  });

  it('measures both targets and reports the medians of the per-pair ratio and p50 difference', async () => {
    const log: string[] = [];
    const ctx: BenchContext = {
      options: parseBenchOptions(['--repeat', '2']),
      log: (line) => log.push(line),
      rows: [],
      notes: [],
      versions: new Map(),
    };
    const [g, f] = await measurePair(
      ctx,
      { label: { system: 'Gatehouse', transport: 'http' }, spec: spec(slow.http!) },
      { label: { system: 'hono echo', transport: 'http' }, spec: spec(fast.http!) },
    );
    // One progress line per row, from its median run.
    expect(log.map((l) => l.trim().split(' ')[0])).toEqual(['Gatehouse', 'hono']);
    expect(g.system).toBe('Gatehouse');
    expect(f.system).toBe('hono echo');
    expect(f.vsFloor).toBeUndefined();
    // 20 ms calls against 10 ms calls at the same concurrency: half the throughput, +10 ms p50.
    expect(g.vsFloor?.pairs).toBe(2);
    expect(g.vsFloor?.system).toBe('hono echo');
    expect(g.vsFloor!.throughputRatio).toBeGreaterThan(0.35);
    expect(g.vsFloor!.throughputRatio).toBeLessThan(0.7);
    expect(g.vsFloor!.p50DeltaMs).toBeGreaterThan(7);
    expect(g.vsFloor!.p50DeltaMs).toBeLessThan(14);
    expect(g.scenario).toBe('check');
  });
});
