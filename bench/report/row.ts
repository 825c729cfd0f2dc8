// One measured line of the results: what every phase produces and every report consumes.

/**
 * `check` and `batch` under closed-loop load (saturation), `steady` single checks at a paced
 * load below it (latency at a given load), `lookup` LookupResources reading every page.
 */
export type Scenario = 'check' | 'steady' | 'batch' | 'lookup';

/** Gatehouse against its transport floor, from runs taken in alternating pairs. */
export interface FloorComparison {
  /** The floor's system name, e.g. `grpc-js echo`. */
  readonly system: string;
  /** Median over the pairs of Gatehouse's throughput divided by the floor's. */
  readonly throughputRatio: number;
  /** Median over the pairs of Gatehouse's p50 minus the floor's, in ms. */
  readonly p50DeltaMs: number;
  readonly pairs: number;
}

export interface ResultRow {
  /** `Gatehouse`, `grpc-js echo`, `Cerbos 0.55.0`, ... */
  readonly system: string;
  /** `in-process`, `grpc`, `http`, `grpc unix`, `http unix`, `ffi`. */
  readonly transport: string;
  readonly scenario: Scenario;
  readonly concurrency: number;
  /** Decisions per second (checks), or lookups per second. */
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly errors: number;
  /** What the system was given or how it was run, when that matters for reading the number. */
  readonly note?: string | undefined;
  /** On a Gatehouse row measured in pairs with its transport floor. */
  readonly vsFloor?: FloorComparison | undefined;
}

/**
 * The Gatehouse row a row is compared with: same scenario and concurrency; the same transport
 * for other systems (a Unix-socket echo against Gatehouse on Unix sockets), the TCP transport of
 * the same family for Gatehouse's own Unix rows (so they read as Unix vs TCP).
 */
export function baselineFor(row: ResultRow, rows: readonly ResultRow[]): ResultRow | undefined {
  const family = row.transport.startsWith('grpc')
    ? 'grpc'
    : row.transport.startsWith('http')
      ? 'http'
      : row.transport;
  const gatehouse = (transport: string): ResultRow | undefined =>
    rows.find(
      (r) =>
        r.system === 'Gatehouse' &&
        r.scenario === row.scenario &&
        r.concurrency === row.concurrency &&
        r.transport === transport,
    );
  if (row.system === 'Gatehouse') return gatehouse(family);
  return gatehouse(row.transport) ?? gatehouse(family);
}

/** `row.throughput / Gatehouse's`, or undefined without a baseline. */
export function ratioToGatehouse(row: ResultRow, rows: readonly ResultRow[]): number | undefined {
  const base = baselineFor(row, rows);
  return base === undefined || base.throughput === 0 ? undefined : row.throughput / base.throughput;
}
