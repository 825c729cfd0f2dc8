// PolicyReloader over a live service: a valid change swaps the generation only after the new
// graph applied the writes committed while it was built; invalid and orphaning policies leave
// the serving generation untouched; requests made during a reload coalesce into one more.
import { afterEach, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { StoreEpochChangedError } from '../../server/src/errors.js';
import { compilePolicySet } from '../../server/src/policy/index.js';
import type { PolicySet } from '../../server/src/policy/policy-set.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { PolicyReloader } from '../../server/src/service/policy-reload.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { FaultyStore } from './faulty-store.js';
import { checkOf, ctx, DATA_YAML, fixturePolicySet, SCHEMA_YAML } from './fixture.js';

const WITH_COMMENT = SCHEMA_YAML.replace(
  '      edit: owner\n',
  '      edit: owner\n      comment: viewer or owner\n',
);
const set = (schema: string): PolicySet =>
  compilePolicySet([
    { path: 'schema.yaml', content: schema },
    { path: 'data.yaml', content: DATA_YAML },
  ]);

let service: GatehouseService | undefined;
afterEach(() => service?.close());

async function start(): Promise<{ store: FaultyStore; service: GatehouseService }> {
  const initial = fixturePolicySet();
  const store = new FaultyStore(
    MemoryStore.withRelationships(initial.relationships.map((r) => r.relationship)),
  );
  service = await GatehouseService.create({ schema: initial.schema, store, limits: DEFAULT_LIMITS });
  return { store, service };
}

it('swaps in the new policies after the new graph applied writes made while it was built', async () => {
  const { store, service: svc } = await start();
  const results: string[] = [];
  const reloader = new PolicyReloader({
    service: svc,
    load: async () => set(WITH_COMMENT),
    onResult: (r) => results.push(r),
  });
  const before = svc.generation;
  store.holdSnapshots();
  const reloading = reloader.reload('test');
  // The old generation serves meanwhile, and a write lands that the new snapshot predates.
  await new Promise((r) => setTimeout(r, 20));
  expect(svc.generation).toBe(before);
  const grant = await svc.writeRelationships(
    {
      updates: [
        {
          operation: 'touch',
          relationship: {
            resource: { type: 'document', id: 'plan' },
            relation: 'viewer',
            subject: { type: 'user', id: 'late' },
          },
        },
      ],
    },
    ctx(),
  );
  store.releaseSnapshots();
  const outcome = await reloading;
  expect(outcome).toMatchObject({ result: 'success', previousHash: before.schemaHash });
  expect(svc.generation).not.toBe(before);
  expect(svc.policyHash).toBe(outcome.policyHash);
  expect(svc.revision).toBeGreaterThanOrEqual(Number.parseInt(grant.token.split('.')[3] ?? '0', 36));
  expect((await svc.check(checkOf('document:plan', 'comment', 'user:late'), ctx())).allowed).toBe(true);
  expect(results).toEqual(['success']);
  expect(svc.readiness().lastReloadError).toBeUndefined();
});

it('keeps the serving generation on invalid or orphaning policies, and says why', async () => {
  const { service: svc } = await start();
  const before = svc.generation;
  let next = `${SCHEMA_YAML}  broken: [\n`;
  const results: string[] = [];
  const reloader = new PolicyReloader({
    service: svc,
    load: async () =>
      compilePolicySet([
        { path: 'schema.yaml', content: next },
        { path: 'data.yaml', content: DATA_YAML },
      ]),
    onResult: (r) => results.push(r),
  });
  const invalid = await reloader.reload('test');
  expect(invalid.result).toBe('invalid');
  expect(invalid.error?.code).toBe('INVALID_ARGUMENT');
  expect(invalid.message).toMatch(/^schema\.yaml:\d+:\d+: /m);
  expect(svc.generation).toBe(before);
  expect(svc.readiness().lastReloadError).toMatch(/schema\.yaml/);
  // Removing the public viewer orphans a stored `viewer@user:*`.
  await svc.writeRelationships(
    {
      updates: [
        {
          operation: 'touch',
          relationship: {
            resource: { type: 'document', id: 'readme' },
            relation: 'viewer',
            subject: { type: 'user', id: '*' },
          },
        },
      ],
    },
    ctx(),
  );
  next = SCHEMA_YAML.replace(
    'types: user or user:* or group#member\n        if_emptied_by_delete: user:*\n',
    'types: user or group#member\n',
  );
  const orphaned = await reloader.reload('test');
  expect(orphaned.result).toBe('orphaned');
  expect(orphaned.error?.code).toBe('FAILED_PRECONDITION');
  expect(orphaned.message).toContain('document:readme#viewer@user:*');
  expect(svc.generation).toBe(before);
  expect(results).toEqual(['invalid', 'orphaned']);
  await expect(svc.reloadPolicies(ctx())).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
});

it('coalesces reload requests made during a reload into one more, and reports unchanged policies', async () => {
  const { service: svc } = await start();
  let loads = 0;
  const reloader = new PolicyReloader({
    service: svc,
    load: async () => {
      loads++;
      return set(WITH_COMMENT);
    },
  });
  const first = reloader.reload('a');
  const second = reloader.reload('b');
  const third = reloader.reload('c');
  expect((await first).result).toBe('success');
  expect((await second).result).toBe('unchanged');
  expect(await third).toEqual(await second);
  expect(loads).toBe(2);
});

it('builds the reloaded generation with the service options: it still hands a new store epoch to onEpochChanged', async () => {
  const initial = fixturePolicySet();
  const store = new FaultyStore(
    MemoryStore.withRelationships(initial.relationships.map((r) => r.relationship)),
  );
  const told: unknown[] = [];
  service = await GatehouseService.create({
    schema: initial.schema,
    store,
    limits: DEFAULT_LIMITS,
    onEpochChanged: (change) => void told.push(change.graph),
  });
  const svc = service;
  const outcome = await new PolicyReloader({ service: svc, load: async () => set(WITH_COMMENT) }).reload(
    'test',
  );
  expect(outcome.result).toBe('success');
  const served = svc.generation;
  expect(served.schemaHash).toBe(outcome.policyHash);
  // The store comes back empty under a new epoch: the serving (reloaded) replica reports it,
  // not only the old one still following during the grace period.
  const previous = served.replica.identity.epoch;
  const servedGraph = served.replica.graph;
  store.inner = new MemoryStore();
  store.fault(new StoreEpochChangedError('epoch changed', previous, undefined));
  await vi.waitFor(() => expect(served.replica.status().resyncs).toBe(1), { timeout: 10_000 });
  expect(told).toContain(servedGraph);
});
