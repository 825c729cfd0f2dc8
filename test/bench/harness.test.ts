// Sanity of the load harness's own numbers: against servers whose latency and failures are
// known, it must report that latency (median-based, with tolerance) and count failures as errors.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../bench/harness/run-load.js';
import { type RunningTarget, startTarget, tsxCommand } from '../../bench/harness/targets/process-target.js';
import type { Endpoint, LoadSpec, Question, Transport } from '../../bench/harness/types.js';

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
    timeoutMs: 2_000,
    ...overrides,
  };
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
    'reports the 20 ms a sleeping %s server takes, and the throughput that implies',
    async (transport, at) => {
      const result = await runLoad(spec(transport, at()));
      expect(result.errors).toBe(0);
      // Timers fire no earlier than asked; loopback and scheduling add a little on a busy machine.
      expect(result.p50Ms).toBeGreaterThanOrEqual(19.5);
      expect(result.p50Ms).toBeLessThan(35);
      expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
      // Closed loop: 4 loops of ~20 ms calls make at most 200 calls/s. The floor is loose (half
      // of what 35 ms calls imply) because a few slow calls on an overloaded machine drag the
      // rate without moving p50; it still catches a harness counting one loop of the four.
      expect(result.callsPerSecond).toBeLessThanOrEqual(4 * (1000 / 19.5));
      expect(result.callsPerSecond).toBeGreaterThan((4 * (1000 / 35)) / 2);
      expect(result.decisions).toBe(result.calls);
    },
  );

  it("paces calls at the asked rate, and the latency is the call's, not the wait before it", async () => {
    // 4 clients at 40 calls/s together: each sends every 100 ms, where a closed loop of 20 ms
    // calls would make about 200 calls/s.
    const result = await runLoad(spec('http', slowHttp.http!, { ratePerSecond: 40, durationMs: 1_500 }));
    expect(result.errors).toBe(0);
    expect(result.callsPerSecond).toBeGreaterThan(30);
    expect(result.callsPerSecond).toBeLessThan(50);
    expect(result.p50Ms).toBeGreaterThanOrEqual(19.5);
    expect(result.p50Ms).toBeLessThan(35);
  });

  it('splits a paced load between load workers instead of multiplying it', async () => {
    const result = await runLoad(spec('http', slowHttp.http!, { ratePerSecond: 40, durationMs: 1_500 }), {
      workers: 2,
    });
    expect(result.errors).toBe(0);
    expect(result.callsPerSecond).toBeGreaterThan(30);
    expect(result.callsPerSecond).toBeLessThan(50);
  });

  it('caps a paced load above capacity at the clients it has', async () => {
    const result = await runLoad(spec('grpc', slowGrpc.grpc!, { ratePerSecond: 5_000, durationMs: 500 }));
    expect(result.errors).toBe(0);
    expect(result.callsPerSecond).toBeLessThanOrEqual(4 * (1000 / 19.5));
  });

  it.each([
    ['http', () => failingHttp.http!, /HTTP 503/],
    ['grpc', () => failingGrpc.grpc!, /UNAVAILABLE/],
  ] as const)(
    'counts every answer of a failing %s server as an error, never as a success',
    async (transport, at, why) => {
      const result = await runLoad(spec(transport, at(), { durationMs: 300 }));
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
      const result = await runLoad(
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
