// Number formatting shared by the console table, RESULTS.md and the chart.

/** Latency with a unit that keeps 3 significant digits: ns, µs, ms or s. */
export function formatLatency(ms: number): string {
  if (ms === 0) return '-';
  if (ms < 0.001) return `${(ms * 1e6).toPrecision(3)} ns`;
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1000).toPrecision(3)} s`;
}

/** 1234567 → `1.23M`, 45678 → `45.7k`, 812 → `812`. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toPrecision(3)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toPrecision(3)}k`;
  return perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toPrecision(2);
}

export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined) return '-';
  return ratio >= 10
    ? `${ratio.toFixed(0)}×`
    : ratio >= 0.1
      ? `${ratio.toFixed(2)}×`
      : `${ratio.toPrecision(2)}×`;
}
