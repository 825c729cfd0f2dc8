// HDR latency histograms (nanoseconds, 3 significant digits): built in workers, shipped to the
// parent as compressed base64, merged there and read as millisecond percentiles.
import * as hdr from 'hdr-histogram-js';

export type LatencyHistogram = hdr.Histogram;

export function createHistogram(): LatencyHistogram {
  // Pure-JS buckets: the wasm build would need async init in every worker for no gain here.
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60e9,
    numberOfSignificantValueDigits: 3,
  });
}

export function encodeHistogram(h: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Merge encoded histograms into one. */
export function mergeHistograms(encoded: readonly string[]): LatencyHistogram {
  const merged = createHistogram();
  for (const e of encoded) merged.add(hdr.decodeFromCompressedBase64(e));
  return merged;
}

/** Percentile in milliseconds; 0 for an empty histogram. */
export function percentileMs(h: LatencyHistogram, percentile: number): number {
  return h.totalCount === 0 ? 0 : h.getValueAtPercentile(percentile) / 1e6;
}
