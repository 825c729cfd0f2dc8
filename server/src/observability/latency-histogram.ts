// A Prometheus histogram built for the check path: observe() is a short bucket scan and three
// adds. prom-client's Histogram validates and hashes the label set on every observe (~1.5 µs
// measured), which is a noticeable share of a microsecond-scale check; here each label set is
// resolved once into a Series and the registry reads the counts only at scrape time.
import type { Metric, Registry } from 'prom-client';

/** One label set's counts. `counts[i]` holds observations in bucket i (not cumulative). */
export class Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Upper bounds of the buckets, ascending. */
  readonly bounds: readonly number[];

  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

interface SampleValue {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

export class LatencyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(options: { name: string; help: string; buckets: readonly number[]; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    // The registry only reads name, help, type and get(): it renders any object of that shape.
    options.registry.registerMetric(this as unknown as Metric);
  }

  /** The series for a label set; resolve it once and keep it (the lookup builds a key). */
  series(labels: Readonly<Record<string, string>>): Series {
    const key = JSON.stringify(labels);
    let s = this.#series.get(key);
    if (s === undefined) {
      s = new Series(labels, this.#bounds);
      this.#series.set(key, s);
    }
    return s;
  }

  /**
   * Render a series recorded elsewhere, from before this registry existed (the service's
   * replication delays); its bounds must be this histogram's.
   */
  adopt(series: Series): void {
    if (series.bounds.length !== this.#bounds.length || series.bounds.some((b, i) => b !== this.#bounds[i])) {
      throw new Error(`${this.name}: the adopted series has other bucket bounds`);
    }
    this.#series.set(JSON.stringify(series.labels), series);
  }

  /** Cumulative `_bucket` lines (with `le`), then `_sum` and `_count`, per series that has observations. */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: SampleValue[];
  }> {
    const values: SampleValue[] = [];
    for (const s of this.#series.values()) {
      // Series are resolved up front for every outcome; unused ones would only add noise.
      if (s.count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i <= this.#bounds.length; i++) {
        cumulative += s.counts[i]!;
        const le = i < this.#bounds.length ? this.#bounds[i]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
