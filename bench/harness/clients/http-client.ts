// The HTTP/JSON load client: undici connection pool (one connection per in-flight call), over
// loopback TCP or a Unix socket. Any non-200 status or malformed answer rejects the call.

import type { LoadClient, LoadSpec, Operation } from '../types.js';
import {
  batchRequest,
  checkRequest,
  expectBatchResponse,
  expectCheckResponse,
  expectLookupPage,
  lookupRequest,
} from '../wire.js';
import { createPool } from './http-pool.js';

const PATHS: Record<Operation, string> = {
  check: '/v1/check',
  batch: '/v1/check/batch',
  lookup: '/v1/lookup/resources',
};

export function createHttpClient(spec: LoadSpec): LoadClient {
  const pool = createPool(spec.endpoint, spec.concurrency);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (spec.token !== undefined) headers.authorization = `Bearer ${spec.token}`;
  headers['gatehouse-timeout-ms'] = String(spec.timeoutMs);

  async function post(path: string, body: unknown): Promise<unknown> {
    const res = await pool.request({
      method: 'POST',
      path,
      headers,
      body: JSON.stringify(body),
      headersTimeout: spec.timeoutMs,
      bodyTimeout: spec.timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} from ${path}: ${text.slice(0, 160)}`);
    return JSON.parse(text) as unknown;
  }

  const { questions } = spec;
  return {
    async call(operation: Operation, index: number): Promise<number> {
      const q = questions[index % questions.length]!;
      switch (operation) {
        case 'check':
          expectCheckResponse(await post(PATHS.check, checkRequest(q)));
          return 1;
        case 'batch':
          return expectBatchResponse(
            await post(PATHS.batch, batchRequest(questions, index * spec.batchSize, spec.batchSize)),
            spec.batchSize,
          );
        case 'lookup': {
          let ids = 0;
          let cursor = '';
          do {
            const page = expectLookupPage(
              await post(PATHS.lookup, lookupRequest(q, spec.lookupPageSize, cursor)),
            );
            ids += page.ids;
            cursor = page.nextCursor;
          } while (cursor !== '');
          return ids;
        }
      }
    },
    async close(): Promise<void> {
      await pool.close();
    },
  };
}
