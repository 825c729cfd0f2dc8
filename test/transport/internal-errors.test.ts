// Internal failures: the caller gets a generic message and the request id; the log gets the details.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { GatehouseError } from '../../server/src/errors.js';
import { GatehouseMetrics } from '../../server/src/observability/metrics.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { MemoryStore } from '../../server/src/store/index.js';
import type { ReadPage } from '../../server/src/store/store.js';
import { toServiceError } from '../../server/src/transport/grpc/errors.js';
import { createHttpApp } from '../../server/src/transport/http/app.js';
import { fixturePolicySet } from '../service/fixture.js';
import { LaggingStore } from '../service/lagging-store.js';

class BrokenStore extends LaggingStore {
  override read(): Promise<ReadPage> {
    return Promise.reject(new Error('disk on fire at /var/lib/secret-path'));
  }
}

let service: GatehouseService | undefined;
afterEach(() => service?.close());

it('answers 500 with a generic message and logs the cause with the request id', async () => {
  const set = fixturePolicySet();
  service = await GatehouseService.create({
    schema: set.schema,
    store: new BrokenStore(MemoryStore.withRelationships(set.relationships.map((r) => r.relationship))),
    limits: DEFAULT_LIMITS,
  });
  const logged: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(chunk.toString());
      done();
    },
  });
  const app = createHttpApp({
    service,
    metrics: new GatehouseMetrics(service, { processMetrics: false }),
    logger: pino({ level: 'info' }, sink),
    maxBodyBytes: 4096,
    defaultDeadlineMs: 60_000, // generous: a slow machine must not turn the INTERNAL under test into DEADLINE_EXCEEDED
  });
  const res = await app.request('/v1/relationships/read', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'rid-77' },
    body: JSON.stringify({ filter: { resourceType: 'document' } }),
  });
  expect(res.status).toBe(500);
  const text = await res.text();
  expect(text).not.toContain('disk on fire');
  expect(JSON.parse(text).error).toMatchObject({
    code: 'INTERNAL',
    message: expect.stringMatching(/request id/),
  });
  expect(logged.join('')).toMatch(/disk on fire/);
  expect(logged.join('')).toMatch(/"requestId":"rid-77"/);
});

it('hides internal details in gRPC statuses too', () => {
  const status = toServiceError(new GatehouseError('INTERNAL', 'secret detail'));
  expect(status.code).toBe(13);
  expect(status.details).not.toContain('secret detail');
  expect(status.metadata?.get('gatehouse-error-code')).toEqual(['INTERNAL']);
});
