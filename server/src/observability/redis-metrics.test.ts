// The Redis store's series: every error kind from the start, reconnects, and the changelog length
// read at scrape time, its last value kept while Redis does not answer.
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { REDIS_ERROR_KINDS, type RedisMetricsSource, registerRedisMetrics } from './redis-metrics.js';

it('serves errors by kind, reconnects and the changelog length, and survives a failed read', async () => {
  const errors: Partial<Record<(typeof REDIS_ERROR_KINDS)[number], number>> = { timeout: 2 };
  let reconnects = 0;
  let length: number | Error = 17;
  const store: RedisMetricsSource = {
    stats: () => ({ errors, reconnects }),
    changelogLength: async () => {
      if (length instanceof Error) throw length;
      return length;
    },
  };
  const registry = new Registry();
  registerRedisMetrics(registry, store);
  let text = await registry.metrics();
  for (const kind of REDIS_ERROR_KINDS) {
    expect(text).toContain(`gatehouse_redis_errors_total{kind="${kind}"} ${kind === 'timeout' ? 2 : 0}`);
  }
  expect(text).toMatch(/^gatehouse_redis_reconnects_total 0$/m);
  expect(text).toMatch(/^gatehouse_redis_changelog_entries 17$/m);
  errors.connection = 5;
  reconnects = 3;
  length = new Error('Connection is closed.');
  text = await registry.metrics();
  expect(text).toContain('gatehouse_redis_errors_total{kind="connection"} 5');
  expect(text).toMatch(/^gatehouse_redis_reconnects_total 3$/m);
  expect(text).toMatch(/^gatehouse_redis_changelog_entries 17$/m);
  length = 40;
  expect(await registry.metrics()).toMatch(/^gatehouse_redis_changelog_entries 40$/m);
});
