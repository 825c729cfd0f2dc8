// docs/operations.md lists every metric the server serves, and each name follows the conventions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { GatehouseMetrics } from '../../server/src/observability/metrics.js';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'operations.md'), 'utf8');

it('documents every gatehouse_ metric served, with Prometheus-style names', async () => {
  const metrics = new GatehouseMetrics(
    { revision: 1, relationshipCount: 2, ready: true },
    { processMetrics: false },
  );
  metrics.method('http', 'Check').error('INTERNAL', performance.now());
  const { body } = await metrics.render();
  const families = body
    .split('\n')
    .filter((l) => l.startsWith('# TYPE '))
    .map((l) => l.split(' ') as [string, string, string, string]);
  expect(families.length).toBeGreaterThanOrEqual(6);
  for (const [, , name, type] of families) {
    expect(DOC, name).toContain(`\`${name}\``);
    expect(name).toMatch(/^gatehouse_[a-z_]+$/);
    if (type === 'counter') expect(name).toMatch(/_total$/);
    if (type === 'histogram') expect(name).toMatch(/_seconds$/);
  }
});
