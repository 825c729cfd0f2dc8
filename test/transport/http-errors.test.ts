// HTTP statuses that need a particular store state: 504 for a consistency wait past the
// Gatehouse-Timeout-Ms deadline, 412 for a Watch start token older than the retained changelog.
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { GatehouseMetrics } from '../../server/src/observability/metrics.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { encodeRevisionToken } from '../../server/src/service/revision-token.js';
import { MemoryStore } from '../../server/src/store/index.js';
import type { Store } from '../../server/src/store/store.js';
import { createHttpApp } from '../../server/src/transport/http/app.js';
import { fixturePolicySet } from '../service/fixture.js';
import { LaggingStore } from '../service/lagging-store.js';

let service: GatehouseService | undefined;
afterEach(() => service?.close());

async function appOver(store: Store) {
  service = await GatehouseService.create({
    schema: fixturePolicySet().schema,
    store,
    limits: DEFAULT_LIMITS,
  });
  return createHttpApp({
    service,
    metrics: new GatehouseMetrics(service, { processMetrics: false }),
    logger: pino({ level: 'silent' }),
    maxBodyBytes: 4096,
    defaultDeadlineMs: 2000,
  });
}

const grant = {
  operation: 'touch' as const,
  relationship: {
    resource: { type: 'document', id: 'plan' },
    relation: 'viewer',
    subject: { type: 'user', id: 'zed' },
  },
};

it('answers 504 when a consistency wait outlives Gatehouse-Timeout-Ms', async () => {
  const set = fixturePolicySet();
  const store = new LaggingStore(MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)));
  const app = await appOver(store);
  store.held = true;
  const change = await store.write([grant]);
  const res = await app.request('/v1/check', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'gatehouse-timeout-ms': '40' },
    body: JSON.stringify({
      consistency: {
        atLeastAsFresh: { token: encodeRevisionToken(change.revision, await store.identity()) },
      },
      resource: { objectType: 'document', objectId: 'plan' },
      permission: 'view',
      subject: { object: { objectType: 'user', objectId: 'zed' } },
    }),
  });
  expect(res.status).toBe(504);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('DEADLINE_EXCEEDED');
});

it('answers 412 for a Watch start token older than the retained changelog', async () => {
  const set = fixturePolicySet();
  const store = MemoryStore.withRelationships(
    set.relationships.map((r) => r.relationship),
    { changelogRetention: 2 },
  );
  const app = await appOver(store);
  for (let i = 0; i < 5; i++) await store.write([grant]);
  const res = await app.request('/v1/watch', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ optionalStartCursor: { token: encodeRevisionToken(1, await store.identity()) } }),
  });
  expect(res.status).toBe(412);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FAILED_PRECONDITION');
});
