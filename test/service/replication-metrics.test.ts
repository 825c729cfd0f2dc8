// The replication and policy metrics read the service at scrape time: lag, replica state,
// resyncs, the active policy hash, and reload outcomes.
import { expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { UnavailableError } from '../../server/src/errors.js';
import { GatehouseMetrics } from '../../server/src/observability/metrics.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { PATIENCE } from '../support/wait-until.js';
import { FaultyStore } from './faulty-store.js';
import { checkOf, ctx, fixturePolicySet } from './fixture.js';

it('exposes lag, replica state, resyncs, the policy hash and reload results', async () => {
  const set = fixturePolicySet();
  const store = new FaultyStore(MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)));
  const service = await GatehouseService.create({ schema: set.schema, store, limits: DEFAULT_LIMITS });
  const metrics = new GatehouseMetrics(service, { processMetrics: false });
  let text = (await metrics.render()).body;
  expect(text).toContain('gatehouse_replica_state{state="following"} 1');
  expect(text).toContain('gatehouse_replica_state{state="degraded"} 0');
  expect(text).toContain('gatehouse_replication_lag_revisions 0');
  expect(text).toContain(`gatehouse_policy_info{hash="${set.schema.hash}"} 1`);
  store.down = true;
  store.fault(new UnavailableError('down'));
  await vi.waitFor(() => expect(service.replicaStatus().state).toBe('degraded'), PATIENCE);
  metrics.policyReloaded('success');
  metrics.policyReloaded('invalid');
  metrics.policyReloaded('invalid');
  text = (await metrics.render()).body;
  expect(text).toContain('gatehouse_replica_state{state="degraded"} 1');
  expect(text).toContain('gatehouse_policy_reload_total{result="invalid"} 2');
  expect(text).toContain('gatehouse_policy_reload_total{result="success"} 1');
  expect(text).toMatch(/^gatehouse_replica_resyncs_total 0$/m);
  expect(text).toMatch(/^# TYPE gatehouse_replica_resyncs_total counter$/m);
  store.down = false;
  service.close();
});

it('records each applied change set in gatehouse_replication_delay_seconds, across a new generation too', async () => {
  const set = fixturePolicySet();
  // Every commit stamped 40 ms in the past: each apply is then at least 40 ms after its commit.
  const store = MemoryStore.withRelationships(
    set.relationships.map((r) => r.relationship),
    { clock: () => Date.now() - 40 },
  );
  const service = await GatehouseService.create({ schema: set.schema, store, limits: DEFAULT_LIMITS });
  const metrics = new GatehouseMetrics(service, { processMetrics: false });
  expect((await metrics.render()).body).not.toContain('gatehouse_replication_delay_seconds_count');
  const viewer = (user: string) => {
    const c = checkOf('document:plan', 'viewer', user);
    return {
      updates: [
        {
          operation: 'touch' as const,
          relationship: { resource: c.resource, relation: 'viewer', subject: c.subject },
        },
      ],
    };
  };
  await service.writeRelationships(viewer('user:d1'), ctx());
  let text = (await metrics.render()).body;
  expect(text).toMatch(/^# TYPE gatehouse_replication_delay_seconds histogram$/m);
  expect(text).toMatch(/^gatehouse_replication_delay_seconds_count 1$/m);
  expect(text).toMatch(/^gatehouse_replication_delay_seconds_bucket\{le="0.025"\} 0$/m);
  expect(text).toMatch(/^gatehouse_replication_delay_seconds_bucket\{le="\+Inf"\} 1$/m);
  const sum = Number(/^gatehouse_replication_delay_seconds_sum (\S+)$/m.exec(text)?.[1]);
  expect(sum).toBeGreaterThanOrEqual(0.039);
  // A generation built later (a policy reload) records into the same histogram.
  service.replaceGeneration(await service.buildGeneration(set.schema), 0);
  await service.writeRelationships(viewer('user:d2'), ctx());
  text = (await metrics.render()).body;
  expect(text).toMatch(/^gatehouse_replication_delay_seconds_count 2$/m);
  service.close();
});
