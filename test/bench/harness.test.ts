// Sanity of the load harness's own numbers: against servers whose latency and failures are
// known, it must report that latency (median-based, with tolerance) and count failures as errors.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoadLoop } from '../../bench/harness/load-loop.js';
import { runLoad, splitSpec, summarize } from '../../bench/harness/run-load.js';
import { type RunningTarget, startTarget, tsxCommand } from '../../bench/harness/targets/process-target.js';
import type {
  Endpoint,
  LoadClient,
  LoadSpec,
  LoadSummary,
  Question,
  Transport,
} from '../../bench/harness/types.js';
import { VirtualClock } from './virtual-clock.js';

const HTTP_ECHO = fileURLToPath(new URL('../../bench/harness/targets/http-echo-server.ts', import.meta.url));
const GRPC_ECHO = fileURLToPath(new URL('../../bench/harness/targets/grpc-echo-server.ts', import.meta.url));

const QUESTIONS: Question[] = [
  { resourceType: 'doc', resourceId: 'd1', permission: 'view', subjectType: 'user', subjectId: 'u1' },
  { resourceType: 'doc', resourceId: 'd2', permission: 'view', subjectType: 'user', subjectId: 'u2' },
];

function spec(transport: Transport, endpoint: Endpoint, overrides: Partial<LoadSpec> = {}): LoadSpec {
  return {
    transport,
    operation: 'check',
    endpoint,
    questions: QUESTIONS,
    batchSize: 10,
    lookupPageSize: 100,
    concurrency: 4,
    warmupMs: 100,
    durationMs: 1_000,
    // Generous: a call slowed by a loaded machine must not count as an error.
    timeoutMs: 30_000,
    ...overrides,
  };
}

/**
 * `runLoad`, again with a longer window (bounded) while no call was answered or failed in it: a
 * machine too busy to finish a call in a short window must not fail a test about counting.
 */
async function runLoadUntilCalled(s: LoadSpec, options: { workers?: number } = {}): Promise<LoadSummary> {
  let result = await runLoad(s, options);
  for (const durationMs of [5_000, 20_000]) {
    if (result.calls + result.errors > 0) break;
    result = await runLoad({ ...s, durationMs }, options);
  }
  return result;
}

async function echo(script: string, flag: 'http' | 'grpc', extra: string[]): Promise<RunningTarget> {
  const { command, args } = tsxCommand(script, [`--${flag}`, '127.0.0.1:0', ...extra]);
  return startTarget({ name: `${flag} echo ${extra.join(' ')}`, command, args });
}

describe('load harness against servers of known behaviour', () => {
  const started: RunningTarget[] = [];
  let slowHttp: RunningTarget;
  let slowGrpc: RunningTarget;
  let failingHttp: RunningTarget;
  let failingGrpc: RunningTarget;

  beforeAll(async () => {
    [slowHttp, slowGrpc, failingHttp, failingGrpc] = await Promise.all([
      echo(HTTP_ECHO, 'http', ['--delay-ms', '20']),
      echo(GRPC_ECHO, 'grpc', ['--delay-ms', '20']),
      echo(HTTP_ECHO, 'http', ['--fail', '503']),
      echo(GRPC_ECHO, 'grpc', ['--fail', '14']),
    ]);
    started.push(slowHttp, slowGrpc, failingHttp, failingGrpc);
  });
  afterAll(async () => {
    await Promise.all(started.map((t) => t.stop()));
  });

  it.each([
    ['http', () => slowHttp.http!],
    ['grpc', () => slowGrpc.grpc!],
  ] as const)(
    'measures calls to a real %s server and counts one decision per check',
    async (transport, at) => {
      // What the numbers must be is checked on a virtual clock below; against a real server on a
      // shared machine only what does not depend on its speed is asserted.
      const result = await runLoadUntilCalled(spec(transport, at()));
      expect(result.errors).toBe(0);
      expect(result.calls).toBeGreaterThan(0);
      expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
      expect(result.decisions).toBe(result.calls);
    },
  );

  it('runs a paced load from two load workers', async () => {
    const result = await runLoadUntilCalled(
      spec('http', slowHttp.http!, { ratePerSecond: 40, durationMs: 500 }),
      {
        workers: 2,
      },
    );
    expect(result.errors).toBe(0);
    expect(result.calls).toBeGreaterThan(0);
  });

  it.each([
    ['http', () => failingHttp.http!, /HTTP 503/],
    ['grpc', () => failingGrpc.grpc!, /UNAVAILABLE/],
  ] as const)(
    'counts every answer of a failing %s server as an error, never as a success',
    async (transport, at, why) => {
      const result = await runLoadUntilCalled(spec(transport, at(), { durationMs: 300 }));
      expect(result.calls).toBe(0);
      expect(result.decisions).toBe(0);
      expect(result.errors).toBeGreaterThan(0);
      expect(result.callsPerSecond).toBe(0);
      expect(result.errorSamples.join('\n')).toMatch(why);
    },
  );

  it('counts a 200 answer that carries no decision as an error', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"checkedAt":{"token":"1"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await runLoadUntilCalled(
        spec('http', { kind: 'tcp', host: '127.0.0.1', port }, { durationMs: 300 }),
      );
      expect(result.calls).toBe(0);
      expect(result.errors).toBeGreaterThan(0);
      expect(result.errorSamples[0]).toMatch(/without a decision/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('counts each item of a CheckBatch answer as one decision', async () => {
    const result = await runLoad(
      spec('grpc', slowGrpc.grpc!, { operation: 'batch', batchSize: 10, durationMs: 300 }),
    );
    expect(result.errors).toBe(0);
    expect(result.decisions).toBe(result.calls * 10);
  });
});

describe('load loop on a virtual clock (calls that take exactly 20 ms)', () => {
  const ANY: Endpoint = { kind: 'tcp', host: '127.0.0.1', port: 1 };

  async function measure(overrides: Partial<LoadSpec>): Promise<ReturnType<typeof summarize>> {
    const clock = new VirtualClock();
    const client: LoadClient = {
      call: async () => {
        await clock.sleep(20);
        return 1;
      },
      close: async () => undefined,
    };
    const report = await clock.run(() => runLoadLoop(spec('http', ANY, overrides), client, clock));
    return summarize([report]);
  }

  it('reports the 20 ms each call takes, and the throughput of 4 closed loops (200 calls/s)', async () => {
    const result = await measure({});
    expect(result.errors).toBe(0);
    // Calls starting at 100, 120, …, 1080 ms in each of 4 loops: 50 each.
    expect(result.calls).toBe(200);
    expect(result.callsPerSecond).toBe(200);
    // HDR buckets at 3 significant digits report the bucket's upper edge.
    for (const p of [result.p50Ms, result.p99Ms, result.maxMs]) {
      expect(p).toBeGreaterThanOrEqual(20);
      expect(p).toBeLessThan(20.05);
    }
  });

  it("paces calls at the asked rate, and the latency is the call's, not the wait before it", async () => {
    // 4 clients at 40 calls/s together: each sends every 100 ms, where a closed loop would make 200/s.
    const result = await measure({ ratePerSecond: 40, durationMs: 1_500 });
    expect(result.calls).toBe(60);
    expect(result.callsPerSecond).toBe(40);
    expect(result.p50Ms).toBeGreaterThanOrEqual(20);
    expect(result.p50Ms).toBeLessThan(20.05);
  });

  it('caps a paced load above capacity at the clients it has', async () => {
    const result = await measure({ ratePerSecond: 5_000, durationMs: 500 });
    expect(result.errors).toBe(0);
    expect(result.callsPerSecond).toBeLessThanOrEqual(4 * (1000 / 20));
    expect(result.callsPerSecond).toBeGreaterThan(0.9 * 4 * (1000 / 20));
  });

  it('records no call that ends after the window, and counts failures in it as errors', async () => {
    const clock = new VirtualClock();
    let n = 0;
    const client: LoadClient = {
      call: async () => {
        await clock.sleep(20);
        if (++n % 2 === 0) throw new Error('every other call fails');
        return 1;
      },
      close: async () => undefined,
    };
    const report = await clock.run(() => runLoadLoop(spec('http', ANY, { concurrency: 1 }), client, clock));
    // One loop: 5 warm-up calls, then 50 in the window, half of them failing.
    expect([report.calls, report.errors]).toEqual([25, 25]);
    expect(report.errorSamples).toEqual(['every other call fails']);
  });
});

describe('splitSpec', () => {
  it('splits clients and pace between load workers instead of multiplying them', () => {
    const parts = splitSpec(
      spec('http', { kind: 'tcp', host: '127.0.0.1', port: 1 }, { ratePerSecond: 40 }),
      3,
    );
    expect(parts.map((p) => [p.concurrency, p.ratePerSecond])).toEqual([
      [2, 20],
      [1, 10],
      [1, 10],
    ]);
    expect(splitSpec(spec('http', { kind: 'tcp', host: '127.0.0.1', port: 1 }), 9)).toHaveLength(4);
  });
});
