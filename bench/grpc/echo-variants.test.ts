// Every echo variant the gRPC bench compares must speak gRPC to the bench's own grpc-js client:
// a variant that only looked faster because it broke the protocol would be no candidate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { createGrpcClient } from '../harness/clients/grpc-client.js';
import { formatEndpoint } from '../harness/endpoint.js';
import { startTarget, tsxCommand } from '../harness/targets/process-target.js';
import type { Endpoint, LoadSpec, Question } from '../harness/types.js';

const SCRIPT = fileURLToPath(new URL('./echo-variants.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gh-echo-variants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const questions: Question[] = Array.from({ length: 7 }, (_, i) => ({
  resourceType: 'document',
  resourceId: `d${i}`,
  permission: 'view',
  subjectType: 'user',
  subjectId: `u${i}`,
  subjectRelation: i % 2 === 0 ? undefined : 'member',
}));

function spec(endpoint: Endpoint): LoadSpec {
  return {
    transport: 'grpc',
    operation: 'check',
    endpoint,
    questions,
    batchSize: 5,
    lookupPageSize: 10,
    concurrency: 1,
    warmupMs: 0,
    durationMs: 0,
    timeoutMs: 10_000,
  };
}

/** A unary call to a method the echo variants do not serve; resolves with the status code. */
function unimplementedStatus(endpoint: Endpoint): Promise<number> {
  const client = new grpc.Client(formatEndpoint(endpoint), grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/gatehouse.v1.GatehouseService/ReadSchema',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      (err) => {
        client.close();
        resolve(err?.code ?? grpc.status.OK);
      },
    );
  });
}

describe.each([
  ['grpc-js/reflection', '127.0.0.1:0'],
  ['grpc-js/no-channelz', '127.0.0.1:0'],
  ['grpc-js/static', '127.0.0.1:0'],
  ['grpc-js/hand', '127.0.0.1:0'],
  ['connect-node', '127.0.0.1:0'],
  ['node-http2/reflection', '127.0.0.1:0'],
  ['node-http2/reflection', `unix:${join(dir, 'h2.sock')}`],
])('echo variant %s on %s', (variant, address) => {
  it('answers Check and CheckBatch to the grpc-js client and refuses other methods', async () => {
    const { command, args } = tsxCommand(SCRIPT, ['--variant', variant, '--grpc', address]);
    const target = await startTarget({ name: variant, command, args });
    try {
      const client = createGrpcClient(spec(target.grpc!));
      try {
        for (let i = 0; i < questions.length; i++) expect(await client.call('check', i)).toBe(1);
        expect(await client.call('batch', 0)).toBe(5);
      } finally {
        await client.close();
      }
      expect(await unimplementedStatus(target.grpc!)).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      await target.stop();
    }
  });
});
