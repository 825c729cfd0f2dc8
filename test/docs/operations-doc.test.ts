// docs/operations.md lists every metric the server serves, each name follows the conventions, and
// the example alert rules only use metrics that exist.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerDecisionLogMetrics } from '../../server/src/observability/decision-log.js';
import { GatehouseMetrics, replicationDelaySeries } from '../../server/src/observability/metrics.js';
import { registerRedisMetrics } from '../../server/src/observability/redis-metrics.js';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'operations.md'), 'utf8');

/** Every metric family of a server's registry with all of its metrics present: name → type. */
async function servedFamilies(): Promise<Map<string, string>> {
  const replicationDelays = replicationDelaySeries();
  replicationDelays.observe(0.001);
  const metrics = new GatehouseMetrics({
    replicationDelays,
    revision: 1,
    relationshipCount: 2,
    ready: true,
    policyHash: 'abc',
    replicaStatus: () => ({
      state: 'following',
      lagRevisions: 0,
      lagSeconds: 0,
      resyncs: 0,
      lostRevisions: 0,
    }),
    graphSnapshotStats: () => ({
      loads: 1,
      hits: 1,
      corrupt: 0,
      published: 0,
      lastLoadMs: 12,
      lastLoadBytes: 345,
      lastPublishMs: 0,
      lastPublishBytes: 0,
    }),
  });
  registerDecisionLogMetrics(metrics.registry, undefined);
  registerRedisMetrics(metrics.registry, {
    stats: () => ({ errors: {}, reconnects: 0 }),
    changelogLength: async () => 1,
  });
  metrics.method('http', 'Check').error('INTERNAL', performance.now());
  const { body } = await metrics.render();
  return new Map(
    body
      .split('\n')
      .filter((l) => l.startsWith('# TYPE '))
      .map((l) => {
        const [, , name, type] = l.split(' ') as [string, string, string, string];
        return [name, type];
      }),
  );
}

it('documents every gatehouse_ metric served, with Prometheus-style names', async () => {
  const families = await servedFamilies();
  const own = [...families].filter(([name]) => name.startsWith('gatehouse_'));
  expect(own.length).toBeGreaterThanOrEqual(14);
  for (const [name, type] of own) {
    expect(DOC, name).toContain(`\`${name}\``);
    expect(name).toMatch(/^gatehouse_[a-z_]+$/);
    if (type === 'counter') expect(name).toMatch(/_total$/);
    if (type === 'histogram') expect(name).toMatch(/_seconds$/);
  }
});

it('serves the process metrics under their standard unprefixed names, as documented', async () => {
  const families = await servedFamilies();
  const other = [...families.keys()].filter((name) => !name.startsWith('gatehouse_'));
  expect(other).toContain('process_resident_memory_bytes');
  expect(other).toContain('nodejs_eventloop_lag_p99_seconds');
  for (const name of other) expect(name).toMatch(/^(process|nodejs)_[a-z0-9_]+$/);
  expect(DOC).toContain('`process_*`, `nodejs_*`');
  expect(DOC).not.toMatch(/gatehouse_(process|nodejs)_/);
});

it('writes its example alert rules only with metrics the server serves', async () => {
  const families = await servedFamilies();
  const block = /```yaml\n(groups:[\s\S]*?)```/.exec(DOC);
  expect(block).not.toBeNull();
  const rules = (
    parse(block![1]!) as { groups: { rules: { alert: string; expr: string }[] }[] }
  ).groups.flatMap((g) => g.rules);
  expect(rules.length).toBeGreaterThanOrEqual(8);
  for (const rule of rules) {
    const names = rule.expr.match(/\b(gatehouse|process|nodejs)_[a-z0-9_]+/g) ?? [];
    expect(names.length, rule.alert).toBeGreaterThan(0);
    for (const name of names) {
      // A histogram's series (`_bucket`, `_count`, `_sum`) belong to its family.
      const family = name.replace(/_(bucket|count|sum)$/, '');
      expect(families.has(name) || families.has(family), `${rule.alert}: ${name}`).toBe(true);
    }
  }
});
