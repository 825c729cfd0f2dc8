// What a deployer's pager depends on when the store fails: checks keep answering from local
// state, a token newer than the local graph fails fast with UNAVAILABLE, readiness stays 200 but
// says `degraded` with the lag, and fails only past maxLagMs.
import { afterEach, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { UnavailableError } from '../../server/src/errors.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { encodeRevisionToken } from '../../server/src/service/revision-token.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { PATIENCE } from '../support/wait-until.js';
import { FaultyStore } from './faulty-store.js';
import { checkOf, ctx, fixturePolicySet } from './fixture.js';

const WAIT = PATIENCE;
let service: GatehouseService | undefined;
afterEach(() => service?.close());

async function start(options: { maxLagMs?: number; clock?: () => number } = {}) {
  const set = fixturePolicySet();
  const store = new FaultyStore(MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)));
  service = await GatehouseService.create({ schema: set.schema, store, limits: DEFAULT_LIMITS, ...options });
  return { store, service };
}

async function takeDown(store: FaultyStore, svc: GatehouseService): Promise<void> {
  store.down = true;
  store.fault(new UnavailableError('connection refused'));
  await vi.waitFor(() => expect(svc.replicaStatus().state).toBe('degraded'), WAIT);
}

it('keeps answering checks from local state while the store is down, and reports degraded readiness', async () => {
  const { store, service: svc } = await start();
  expect(svc.readiness()).toMatchObject({ ready: true, state: 'ok', storeKind: 'faulty' });
  await takeDown(store, svc);
  for (let i = 0; i < 50; i++) {
    expect((await svc.check(checkOf('document:plan', 'view', 'user:alice'), ctx())).allowed).toBe(true);
  }
  expect(svc.readiness()).toMatchObject({
    ready: true,
    state: 'degraded',
    replicaState: 'degraded',
    lastError: expect.stringMatching(/connection refused|store is down/),
  });
  store.down = false;
  await vi.waitFor(() => expect(svc.readiness().state).toBe('ok'), WAIT);
});

it('fails a token newer than the local graph fast with UNAVAILABLE while degraded; older tokens still answer', async () => {
  const { store, service: svc } = await start();
  const identity = await store.identity();
  await takeDown(store, svc);
  const local = svc.revision;
  const newer = encodeRevisionToken(local + 1, identity);
  // A long deadline: waiting for it would end in DEADLINE_EXCEEDED (and time the test out).
  await expect(
    svc.check(
      {
        ...checkOf('document:plan', 'view', 'user:alice'),
        consistency: { kind: 'at_least_as_fresh', token: newer },
      },
      ctx({ ms: 60_000 }),
    ),
  ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  const covered = encodeRevisionToken(local, identity);
  const answer = svc.checkNow(
    {
      ...checkOf('document:plan', 'view', 'user:alice'),
      consistency: { kind: 'at_least_as_fresh', token: covered },
    },
    ctx(),
  );
  expect(answer).toMatchObject({ allowed: true });
  await expect(
    svc.writeRelationships(
      {
        updates: [
          {
            operation: 'touch',
            relationship: {
              resource: { type: 'document', id: 'plan' },
              relation: 'viewer',
              subject: { type: 'user', id: 'x' },
            },
          },
        ],
      },
      ctx(),
    ),
  ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  store.down = false;
});

it('stays ready while degraded until the lag passes maxLagMs, then reports why', async () => {
  let now = 5_000_000;
  const { store, service: svc } = await start({ maxLagMs: 2000, clock: () => now });
  await takeDown(store, svc);
  now += 1500;
  expect(svc.readiness()).toMatchObject({ ready: true, state: 'degraded', lagSeconds: 1.5 });
  now += 1000;
  const late = svc.readiness();
  expect(late).toMatchObject({ ready: false, state: 'degraded', lagSeconds: 2.5 });
  expect(late.reason).toMatch(/exceeds the configured maximum of 2000 ms/);
  expect(svc.ready).toBe(false);
  store.down = false;
  await vi.waitFor(() => expect(svc.readiness()).toMatchObject({ ready: true, state: 'ok' }), WAIT);
});
