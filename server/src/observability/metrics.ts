// Prometheus metrics on a registry owned by one server (never prom-client's global one):
// request counts and latency per transport/method/outcome, errors by code, graph size and revision,
// policy reloads, replication, and the default Node process metrics.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { BatchCheckResult } from '../engine/types.js';
import { LatencyHistogram, Series } from './latency-histogram.js';

export type TransportName = 'grpc' | 'http';
/**
 * `allowed`/`denied`/`conditional` for decisions (conditional: the answer waits on context the
 * request did not carry), `ok` for other successes, `error` for failures.
 */
export type Outcome = 'allowed' | 'denied' | 'conditional' | 'ok' | 'error';

/** What the gauges read at scrape time; nothing is pushed on the request path. */
export interface MetricsSource {
  readonly revision: number;
  readonly relationshipCount: number;
  readonly ready: boolean;
  /** The active policy (schema) hash, for gatehouse_policy_info. */
  readonly policyHash?: string;
  /** The replica's replication status, read at scrape time. */
  replicaStatus?(): ReplicationStatus;
  /** The compiled-graph cache's counters; undefined when the server has none (no Redis). */
  graphSnapshotStats?(): GraphSnapshotStats | undefined;
  /**
   * Seconds from each applied change set's commit to its apply on this replica, recorded by the
   * service for its whole life (bounds: REPLICATION_DELAY_BUCKETS).
   */
  readonly replicationDelays?: Series | undefined;
}

/**
 * Buckets of gatehouse_replication_delay_seconds: fine below 10 ms, where a replica on the same
 * network applies a change, then up to a minute for one catching up after an outage.
 */
export const REPLICATION_DELAY_BUCKETS: readonly number[] = [
  0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
  2.5, 5, 10, 30, 60,
];

/** The series the service records replication delays in, before any registry exists. */
export function replicationDelaySeries(): Series {
  return new Series({}, REPLICATION_DELAY_BUCKETS);
}

/** What the compiled-graph snapshot metrics read (a Redis graph cache's counters). */
export interface GraphSnapshotStats {
  readonly loads: number;
  readonly hits: number;
  readonly corrupt: number;
  readonly published: number;
  readonly lastLoadMs: number;
  readonly lastLoadBytes: number;
  readonly lastPublishMs: number;
  readonly lastPublishBytes: number;
}

/** What the replication gauges read (a GraphReplica's status). */
export interface ReplicationStatus {
  readonly state: string;
  readonly lagRevisions: number;
  readonly lagSeconds: number;
  readonly resyncs: number;
  readonly lostRevisions: number;
}

/** Replica states, each a series of gatehouse_replica_state (1 for the current one). */
const REPLICA_STATES = ['building', 'following', 'resyncing', 'degraded', 'closed'] as const;
/** Outcomes of a policy reload: applied, invalid policies, refused (would orphan stored data), other failure. */
export type ReloadResult = 'success' | 'invalid' | 'orphaned' | 'error';

// Sub-millisecond buckets: an in-memory check answers in microseconds plus transport time.
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

const OUTCOMES: readonly Outcome[] = ['allowed', 'denied', 'conditional', 'ok', 'error'];

/** Pre-resolved series for one (transport, method): observing does no label work at all. */
export class MethodMetrics {
  readonly #series: Readonly<Record<Outcome, Series>>;
  readonly #errors: Counter<'transport' | 'method' | 'code'>;
  readonly #transport: TransportName;
  readonly #method: string;

  constructor(
    histogram: LatencyHistogram,
    errors: Counter<'transport' | 'method' | 'code'>,
    transport: TransportName,
    method: string,
  ) {
    const series = {} as Record<Outcome, Series>;
    for (const outcome of OUTCOMES) series[outcome] = histogram.series({ transport, method, outcome });
    this.#series = series;
    this.#errors = errors;
    this.#transport = transport;
    this.#method = method;
  }

  /** Record one finished call that started at `startMs` (performance.now()). */
  observe(outcome: Outcome, startMs: number): void {
    this.#series[outcome].observe((performance.now() - startMs) / 1000);
  }

  /** Record a failed call by its canonical code (also observed with outcome `error`). */
  error(code: string, startMs: number): void {
    this.#errors.labels(this.#transport, this.#method, code).inc();
    this.observe('error', startMs);
  }
}

export class GatehouseMetrics {
  readonly registry = new Registry();
  readonly #histogram: LatencyHistogram;
  readonly #errors: Counter<'transport' | 'method' | 'code'>;
  readonly #batchChecks: Counter<'outcome'>;
  readonly #methods = new Map<string, MethodMetrics>();
  readonly #reloads: Counter<'result'>;

  constructor(source: MetricsSource, options: { readonly processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.#histogram = new LatencyHistogram({
      name: 'gatehouse_request_duration_seconds',
      help: 'Time to answer a request, by transport, method and outcome (allowed, denied, ok, error); _count is the request count.',
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    this.#errors = new Counter({
      name: 'gatehouse_request_errors_total',
      help: 'Failed requests by transport, method and canonical error code.',
      labelNames: ['transport', 'method', 'code'],
      registers,
    });
    this.#batchChecks = new Counter({
      name: 'gatehouse_batch_checks_total',
      help: 'Items answered inside CheckBatch calls, by outcome (allowed, denied, error).',
      labelNames: ['outcome'],
      registers,
    });
    new Gauge({
      name: 'gatehouse_graph_relationships',
      help: 'Relationships in the local graph index.',
      registers,
      collect() {
        this.set(source.relationshipCount);
      },
    });
    new Gauge({
      name: 'gatehouse_graph_revision',
      help: 'Revision the local graph index has applied.',
      registers,
      collect() {
        this.set(source.revision);
      },
    });
    new Gauge({
      name: 'gatehouse_ready',
      help: '1 when the server is ready to serve (policies loaded, in sync, not shutting down).',
      registers,
      collect() {
        this.set(source.ready ? 1 : 0);
      },
    });
    // Unprefixed, as the Prometheus client libraries name them (`process_resident_memory_bytes`,
    // `nodejs_eventloop_lag_seconds`): stock Node dashboards and alert rules work unchanged, and
    // the `job`/`instance` labels already say which process they describe.
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#reloads = new Counter({
      name: 'gatehouse_policy_reload_total',
      help: 'Policy reloads by result: success, invalid (policies do not compile), orphaned (refused: stored relationships would be orphaned), error.',
      labelNames: ['result'],
      registers,
    });
    addPolicyAndReplicationMetrics(registers, source);
    addGraphSnapshotMetrics(registers, source);
  }

  /** Count one policy reload attempt. */
  policyReloaded(result: ReloadResult): void {
    this.#reloads.labels(result).inc();
  }

  /** The recorder for one (transport, method); create once per method at adapter build time. */
  method(transport: TransportName, method: string): MethodMetrics {
    const key = `${transport} ${method}`;
    let m = this.#methods.get(key);
    if (m === undefined) {
      m = new MethodMetrics(this.#histogram, this.#errors, transport, method);
      this.#methods.set(key, m);
    }
    return m;
  }

  /** Count the outcomes of one batch's items. */
  batchItems(results: readonly BatchCheckResult[]): void {
    let allowed = 0;
    let conditional = 0;
    let errors = 0;
    for (const item of results) {
      if (item.error !== undefined) errors++;
      else if (item.allowed) allowed++;
      else if (item.permissionship === 'conditional') conditional++;
    }
    const denied = results.length - allowed - conditional - errors;
    if (allowed > 0) this.#batchChecks.labels('allowed').inc(allowed);
    if (denied > 0) this.#batchChecks.labels('denied').inc(denied);
    if (conditional > 0) this.#batchChecks.labels('conditional').inc(conditional);
    if (errors > 0) this.#batchChecks.labels('error').inc(errors);
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** The active policy hash and the replica's replication state, read at scrape time. */
function addPolicyAndReplicationMetrics(registers: Registry[], source: MetricsSource): void {
  if (source.policyHash !== undefined) {
    new Gauge({
      name: 'gatehouse_policy_info',
      help: 'Always 1, labelled with the hash of the active policies (the compiled schema).',
      labelNames: ['hash'],
      registers,
      collect() {
        this.reset();
        this.labels(source.policyHash as string).set(1);
      },
    });
  }
  if (source.replicationDelays !== undefined) {
    for (const registry of registers) {
      new LatencyHistogram({
        name: 'gatehouse_replication_delay_seconds',
        help: 'Seconds from a change set committing in the store to this replica applying it (its own writes included); across hosts it includes clock skew.',
        buckets: REPLICATION_DELAY_BUCKETS,
        registry,
      }).adopt(source.replicationDelays);
    }
  }
  if (source.replicaStatus === undefined) return;
  const status = (): ReplicationStatus => (source.replicaStatus as () => ReplicationStatus)();
  scrapedGauge(
    registers,
    'gatehouse_replication_lag_revisions',
    'Store revisions this replica knows of and has not applied yet.',
    () => status().lagRevisions,
  );
  scrapedGauge(
    registers,
    'gatehouse_replication_lag_seconds',
    'How far behind the store this replica is in time: 0 when caught up.',
    () => status().lagSeconds,
  );
  new Gauge({
    name: 'gatehouse_replica_state',
    help: 'The replica state machine: 1 for the current state, 0 for the others.',
    labelNames: ['state'],
    registers,
    collect() {
      const current = status().state;
      for (const state of REPLICA_STATES) this.labels(state).set(state === current ? 1 : 0);
    },
  });
  scrapedCounter(
    registers,
    'gatehouse_replica_resyncs_total',
    'Times the replica rebuilt its graph from a snapshot after the first build (truncated changelog, divergence, new store epoch).',
    () => status().resyncs,
  );
  scrapedGauge(
    registers,
    'gatehouse_replica_lost_revisions',
    'Revisions known lost because the store data started anew (a new epoch); 0 if none.',
    () => status().lostRevisions,
  );
}

/** A counter whose value is read from `read()` at scrape time (it only grows). */
function scrapedCounter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      const n = read();
      if (n > 0) this.inc(n);
    },
  });
}

/** A gauge read at scrape time. */
function scrapedGauge(registers: Registry[], name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}

/**
 * The compiled-graph cache (with --redis): how replicas started and what snapshots cost. Only a
 * server that has the cache serves these series.
 */
function addGraphSnapshotMetrics(registers: Registry[], source: MetricsSource): void {
  if (source.graphSnapshotStats?.() === undefined) return;
  const stats = (): GraphSnapshotStats => source.graphSnapshotStats?.() as GraphSnapshotStats;
  scrapedCounter(
    registers,
    'gatehouse_graph_snapshot_loads_total',
    'Compiled graphs loaded from the cache instead of being rebuilt from the relationships.',
    () => stats().hits,
  );
  scrapedCounter(
    registers,
    'gatehouse_graph_snapshot_corrupt_total',
    'Cached compiled graphs refused (checksum, missing chunk, codec): the replica rebuilt instead.',
    () => stats().corrupt,
  );
  scrapedCounter(
    registers,
    'gatehouse_graph_snapshot_publishes_total',
    'Compiled graphs this replica published to the cache.',
    () => stats().published,
  );
  scrapedGauge(
    registers,
    'gatehouse_graph_snapshot_load_seconds',
    'Wall time of the last compiled-graph load (fetch, verify, decode); 0 before the first.',
    () => stats().lastLoadMs / 1000,
  );
  scrapedGauge(
    registers,
    'gatehouse_graph_snapshot_load_bytes',
    'Size of the last compiled graph loaded; 0 before the first.',
    () => stats().lastLoadBytes,
  );
  scrapedGauge(
    registers,
    'gatehouse_graph_snapshot_publish_seconds',
    'Wall time of the last compiled-graph publish; 0 before the first.',
    () => stats().lastPublishMs / 1000,
  );
  scrapedGauge(
    registers,
    'gatehouse_graph_snapshot_publish_bytes',
    'Size of the last compiled graph published; 0 before the first.',
    () => stats().lastPublishBytes,
  );
}
