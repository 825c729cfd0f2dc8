// The load harness's vocabulary: what the parent asks a load worker to run and what it reports back.

/** Where a target listens: loopback TCP or a Unix domain socket. */
export type Endpoint =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export type Transport = 'http' | 'grpc';

/** `check`: one decision per call; `batch`: CheckBatch of `batchSize`; `lookup`: LookupResources, every page. */
export type Operation = 'check' | 'batch' | 'lookup';

/** One sampled question, in the wire API's terms. `expected` is the answer the dataset knows. */
export interface Question {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly permission: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly subjectRelation?: string | undefined;
  readonly expected?: boolean | undefined;
}

/** Everything a load worker needs; plain data so it crosses the IPC channel as JSON. */
export interface LoadSpec {
  readonly transport: Transport;
  readonly operation: Operation;
  readonly endpoint: Endpoint;
  /** Calls cycle through these (each worker loop starts at a different offset). */
  readonly questions: readonly Question[];
  /** Items per CheckBatch call. */
  readonly batchSize: number;
  /** Page size for LookupResources. */
  readonly lookupPageSize: number;
  /**
   * Closed loop: this many calls in flight at all times. Paced (with `ratePerSecond`): this
   * many clients, each calling at a steady pace; at most this many calls in flight.
   */
  readonly concurrency: number;
  /**
   * Paced load: the calls per second all clients together aim at, each client sending its next
   * call `concurrency / ratePerSecond` after its previous one was due (at once if that has
   * passed). Below the target's capacity a call meets an idle server or a short queue, so the
   * latency is what a caller sees at that load; unset, the loop is closed (saturation).
   */
  readonly ratePerSecond?: number | undefined;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Per-call deadline; a call that misses it counts as an error. */
  readonly timeoutMs: number;
  /** Bearer token, sent when set. */
  readonly token?: string | undefined;
  /** Which API the target speaks; default `gatehouse` (the echo servers speak it too). */
  readonly protocol?: 'gatehouse' | 'cerbos' | undefined;
  /**
   * For `cerbos`: one ready-made CheckResources request per question (proto3 JSON for HTTP,
   * proto-loader objects for gRPC), since Cerbos must be handed each principal's group set.
   */
  readonly payloads?: readonly unknown[] | undefined;
}

/** What one worker measured during the timed window (warm-up excluded). */
export interface WorkerReport {
  /** Calls that succeeded. */
  readonly calls: number;
  /** Decisions those calls carried: 1 per check, `batchSize` per batch, ids returned by lookups. */
  readonly decisions: number;
  /** Calls that failed (transport error, non-2xx, error status, timeout, unparsable answer). */
  readonly errors: number;
  /** Up to a few distinct error messages, for the operator. */
  readonly errorSamples: readonly string[];
  /** Measured window length in ms. */
  readonly elapsedMs: number;
  /** Latency histogram of successful calls, in nanoseconds, as HdrHistogram compressed base64. */
  readonly histogram: string;
}

/** Parent → worker. */
export interface WorkerRequest {
  readonly type: 'run';
  readonly spec: LoadSpec;
}

/** Worker → parent. */
export type WorkerMessage =
  | { readonly type: 'report'; readonly report: WorkerReport }
  | { readonly type: 'failed'; readonly message: string };

/** The merged result of a run, latencies in milliseconds. */
export interface LoadSummary {
  readonly calls: number;
  readonly decisions: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly elapsedMs: number;
  readonly callsPerSecond: number;
  readonly decisionsPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** A client for one transport: `call` resolves with the decisions carried, rejects on any failure. */
export interface LoadClient {
  call(operation: Operation, index: number): Promise<number>;
  close(): Promise<void>;
}
