// The check-path histogram renders the Prometheus histogram format prom-client would.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram, Series } from './latency-histogram.js';

describe('LatencyHistogram', () => {
  it('renders cumulative buckets with +Inf, sum and count, skipping unused series', async () => {
    const registry = new Registry();
    const h = new LatencyHistogram({ name: 'x_seconds', help: 'test', buckets: [0.01, 0.001], registry });
    const a = h.series({ method: 'Check' });
    h.series({ method: 'Unused' });
    for (const v of [0.0005, 0.001, 0.005, 2]) a.observe(v);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE x_seconds histogram');
    expect(text).toContain('x_seconds_bucket{le="0.001",method="Check"} 2');
    expect(text).toContain('x_seconds_bucket{le="0.01",method="Check"} 3');
    expect(text).toContain('x_seconds_bucket{le="+Inf",method="Check"} 4');
    expect(text).toContain('x_seconds_sum{method="Check"} 2.0065');
    expect(text).toContain('x_seconds_count{method="Check"} 4');
    expect(text).not.toContain('Unused');
  });

  it('returns the same series for the same labels', () => {
    const h = new LatencyHistogram({
      name: 'y_seconds',
      help: 'test',
      buckets: [1],
      registry: new Registry(),
    });
    expect(h.series({ a: '1' })).toBe(h.series({ a: '1' }));
  });
});

describe('LatencyHistogram.adopt', () => {
  it('renders a series recorded elsewhere, and refuses one with other bounds', async () => {
    const registry = new Registry();
    const h = new LatencyHistogram({ name: 'z_seconds', help: 'test', buckets: [0.001, 0.01], registry });
    const kept = new Series({}, [0.001, 0.01]);
    kept.observe(0.002);
    h.adopt(kept);
    expect(await registry.metrics()).toContain('z_seconds_bucket{le="0.01"} 1');
    expect(() => h.adopt(new Series({}, [0.001]))).toThrow(/other bucket bounds/);
  });
});
