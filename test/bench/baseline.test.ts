// Two builds of Gatehouse side by side: --baseline names a built checkout (refused if it has no
// build), and measureSideBySide alternates the order round by round and keeps each row's median.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baselineEntry, OptionsError, parseBenchOptions } from '../../bench/cli/options.js';
import type { LoadSpec, LoadSummary } from '../../bench/harness/types.js';
import type { BenchContext } from '../../bench/suite/context.js';
import { measureSideBySide } from '../../bench/suite/load-row.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-baseline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spec(port: number): LoadSpec {
  return {
    transport: 'grpc',
    operation: 'lookup',
    endpoint: { kind: 'tcp', host: '127.0.0.1', port },
    questions: [
      { resourceType: 'doc', resourceId: 'd1', permission: 'view', subjectType: 'user', subjectId: 'u1' },
    ],
    batchSize: 1,
    lookupPageSize: 1000,
    concurrency: 16,
    warmupMs: 50,
    durationMs: 400,
    timeoutMs: 2_000,
  };
}

function summary(callsPerSecond: number, p50Ms: number): LoadSummary {
  return {
    calls: callsPerSecond,
    decisions: callsPerSecond * 10,
    errors: 0,
    errorSamples: [],
    elapsedMs: 1_000,
    callsPerSecond,
    decisionsPerSecond: callsPerSecond * 10,
    p50Ms,
    p90Ms: p50Ms,
    p99Ms: p50Ms * 2,
    p999Ms: p50Ms * 3,
    maxMs: p50Ms * 3,
  };
}

describe('--baseline', () => {
  it('takes a checkout with a built server, and refuses one without', () => {
    const built = join(dir, 'built');
    mkdirSync(join(built, 'server/dist/cli'), { recursive: true });
    writeFileSync(baselineEntry(built), '');
    expect(parseBenchOptions(['--baseline', built]).baseline).toBe(built);
    expect(parseBenchOptions([]).baseline).toBeUndefined();
    expect(() => parseBenchOptions(['--baseline', join(dir, 'unbuilt')])).toThrow(OptionsError);
    expect(() => parseBenchOptions(['--baseline', join(dir, 'unbuilt')])).toThrow(/npm run build/);
  });
});

describe('measureSideBySide', () => {
  it('alternates the order each round and keeps each row its median run by lookups/s', async () => {
    const NEW = 1;
    const OLD = 2;
    const results = new Map([
      [NEW, [summary(100, 20), summary(300, 5), summary(200, 10)]],
      [OLD, [summary(50, 40), summary(40, 50), summary(60, 30)]],
    ]);
    const order: number[] = [];
    const ctx: BenchContext = {
      options: parseBenchOptions(['--repeat', '3']),
      log: () => {},
      rows: [],
      notes: [],
      versions: new Map(),
      runLoad: async (s) => {
        const port = s.endpoint.kind === 'tcp' ? s.endpoint.port : 0;
        order.push(port);
        return results.get(port)!.shift()!;
      },
    };
    const [g, b] = await measureSideBySide(ctx, [
      { label: { system: 'Gatehouse', transport: 'grpc' }, spec: spec(NEW) },
      { label: { system: 'Gatehouse (baseline)', transport: 'grpc' }, spec: spec(OLD) },
    ]);
    expect(order).toEqual([NEW, OLD, OLD, NEW, NEW, OLD]);
    expect(g).toMatchObject({
      system: 'Gatehouse',
      scenario: 'lookup',
      throughput: 200,
      p50Ms: 10,
      p99Ms: 20,
    });
    expect(b).toMatchObject({ system: 'Gatehouse (baseline)', throughput: 50, p50Ms: 40 });
  });
});
