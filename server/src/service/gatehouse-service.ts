// The transport-free use cases of Gatehouse: every gRPC and HTTP operation is one method here,
// delegated to the module of its use case (checks.ts, lookups.ts, relationship-writes.ts,
// watches.ts, admin.ts). Each validates input once (the engine's resolve step), enforces limits
// and auth, honours consistency, then asks the engine (reads) or the store (writes); results
// carry the revision token they were computed at. What a request reads lives in one immutable
// Generation (generation.ts) that the request captures once, so a policy reload replaces it
// with one assignment between requests.
import type { Limits } from '../config/config.js';
import { UnavailableError } from '../errors.js';
import type { DecisionLog } from '../observability/decision-log.js';
import type { Series } from '../observability/latency-histogram.js';
import type { Logger } from '../observability/logger.js';
import { replicationDelaySeries } from '../observability/metrics.js';
import type { Schema } from '../schema/schema.js';
import type { CompiledGraphStats } from '../store/redis/graph-snapshot-source.js';
import type { Revision, Store } from '../store/store.js';
import { Admin, type Readiness, type Reloader } from './admin.js';
import { type Authorizer, OPEN_AUTHORIZER } from './auth/token-authorizer.js';
import { Checks } from './checks.js';
import { buildGeneration, type Generation, GenerationHolder } from './generation.js';
import type { EpochChange, GraphReplicaOptions, ReplicaStatus } from './graph-replica.js';
import type { LookupPageSink } from './lookup-page-sink.js';
import { Lookups } from './lookups.js';
import { PolicyValidator, type PolicyValidatorOptions } from './policy-validator.js';
import { RelationshipWrites } from './relationship-writes.js';
import type {
  CallContext,
  CheckBatchParams,
  CheckBatchResult,
  CheckParams,
  CheckResult,
  DeleteObjectParams,
  DeleteRelationshipsParams,
  DeleteResult,
  ExplainResult,
  LookupResourcesParams,
  LookupResourcesResult,
  LookupSubjectsParams,
  LookupSubjectsResult,
  ReadParams,
  ReadResult,
  SchemaResult,
  ValidatePoliciesParams,
  ValidatePoliciesResult,
  WatchParams,
  WriteParams,
  WriteResult,
} from './requests.js';
import { CurrentToken, type UseCaseContext } from './use-case-context.js';
import type { WatchFeed } from './watch-feed.js';
import { Watches } from './watches.js';

export type { Readiness } from './admin.js';
export { buildGeneration, type Generation } from './generation.js';

export interface GatehouseServiceOptions {
  readonly schema: Schema;
  readonly store: Store;
  readonly limits: Limits;
  /** Decides which calls may run (token scopes); absent, every call is allowed. */
  readonly authorizer?: Authorizer | undefined;
  /** Revisions a Watch consumer may fall behind before its stream is ended. */
  readonly watchBufferRevisions?: number | undefined;
  /** Receives one info line per committed write (an audit trail); reads are never logged. */
  readonly logger?: Logger | undefined;
  /** Readiness fails once the replica lags the store by more than this (ms); 0 or undefined: never. */
  readonly maxLagMs?: number | undefined;
  /** Told when the store's data starts anew (new epoch), before the replica resyncs: re-seeding goes here. */
  readonly onEpochChanged?: ((change: EpochChange) => Promise<void> | void) | undefined;
  /** ms since the epoch, for replication lag; injectable for tests. Default Date.now. */
  readonly clock?: (() => number) | undefined;
  /** Compiled graphs cached outside the process (GraphReplicaOptions.graphSource). */
  readonly graphSource?: GraphReplicaOptions['graphSource'];
  /** Decision log; undefined (the default) logs nothing and costs one comparison per call. */
  readonly decisionLog?: DecisionLog | undefined;
  /** ValidatePolicies workers, queue and heap; the input limit defaults to limits.maxBodyBytes. */
  readonly validator?: Partial<PolicyValidatorOptions> | undefined;
}

const DEFAULT_WATCH_BUFFER = 4096;

/**
 * One method per API operation. Every method validates its params first (InvalidArgumentError
 * naming the field, LimitExceededError past a limit) and changes nothing when it throws. Each
 * first asks the authorizer (UnauthenticatedError, PermissionDeniedError). Reads
 * honour their consistency requirement within `ctx.deadline` (DeadlineExceededError); store
 * errors pass through with their own codes.
 */
export class GatehouseService {
  readonly limits: Limits;
  /** Commit-to-apply delays of every change set this server's replicas applied (a histogram). */
  readonly replicationDelays: Series;
  readonly #options: GatehouseServiceOptions;
  readonly #generations: GenerationHolder;
  readonly #validator: PolicyValidator;
  readonly #checks: Checks;
  readonly #lookups: Lookups;
  readonly #writes: RelationshipWrites;
  readonly #watches: Watches;
  readonly #admin: Admin;

  private constructor(options: GatehouseServiceOptions, delays: Series, generation: Generation) {
    this.limits = options.limits;
    this.replicationDelays = delays;
    this.#options = options;
    this.#generations = new GenerationHolder(generation);
    this.#validator = new PolicyValidator({
      maxInputBytes: options.limits.maxBodyBytes,
      logger: options.logger,
      ...options.validator,
    });
    const context: UseCaseContext = {
      store: options.store,
      limits: options.limits,
      auth: options.authorizer ?? OPEN_AUTHORIZER,
      logger: options.logger,
      decisions: options.decisionLog,
      generations: this.#generations,
      tokens: new CurrentToken(),
    };
    this.#checks = new Checks(context);
    this.#lookups = new Lookups(context);
    this.#writes = new RelationshipWrites(context);
    this.#watches = new Watches(context, options.watchBufferRevisions ?? DEFAULT_WATCH_BUFFER);
    this.#admin = new Admin(context, options.maxLagMs ?? 0, this.#validator);
  }

  /** Build the local graph from the store and start following it; ready when this resolves. */
  static async create(options: GatehouseServiceOptions): Promise<GatehouseService> {
    const delays = replicationDelaySeries();
    let service: GatehouseService | undefined;
    // Until the service exists, the first generation is the one that will serve.
    const first: Generation = await buildGeneration(options.schema, options.store, {
      ...options,
      applyDelays: servingOnly(delays, () => service === undefined || service.generation === first),
    });
    service = new GatehouseService(options, delays, first);
    return service;
  }

  /**
   * A new generation for `schema` on this service's store, built and following as the first one
   * is (re-seeding on a new epoch, the compiled-graph cache, the delay histogram): hot reload's.
   */
  async buildGeneration(schema: Schema): Promise<Generation> {
    const next: Generation = await buildGeneration(schema, this.#options.store, {
      ...this.#options,
      applyDelays: servingOnly(this.replicationDelays, () => this.#generations.current === next),
    });
    return next;
  }

  /** The schema of the current generation. */
  get schema(): Schema {
    return this.#generations.current.schema;
  }

  /** The current generation: what a request started now reads. */
  get generation(): Generation {
    return this.#generations.current;
  }

  get store(): Store {
    return this.#options.store;
  }

  /** Ready while serving: answering from a local graph and not shutting down (degraded still serves). */
  get ready(): boolean {
    return this.readiness().ready;
  }

  /** The revision the local graph stands at. */
  get revision(): Revision {
    return this.#generations.current.replica.revision;
  }

  get relationshipCount(): number {
    return this.#generations.current.replica.relationshipCount;
  }

  /** The active policy hash: the current generation's schema hash. */
  get policyHash(): string {
    return this.#generations.current.schemaHash;
  }

  /** The compiled-graph cache's counters (loads, corrupt snapshots, publishes); undefined without one. */
  graphSnapshotStats(): CompiledGraphStats | undefined {
    return this.#options.graphSource?.stats;
  }

  /** The replica's status: state, lag, last error (for metrics and /readyz). */
  replicaStatus(): ReplicaStatus {
    return this.#generations.current.replica.status();
  }

  /**
   * The /readyz answer: ready while serving, `degraded` with the lag when the store cannot be
   * followed; not ready when shutting down, or when the lag passes `maxLagMs` (if set).
   */
  readiness(): Readiness {
    return this.#admin.readiness();
  }

  /**
   * Serve `next` from now on: one assignment, between requests (requests in flight finish on
   * the generation they captured). The old replica stops following after `graceMs`, so waits
   * already pending on it can still be met.
   */
  replaceGeneration(next: Generation, graceMs = 10_000): void {
    this.#generations.replace(next, graceMs);
  }

  /** Where `reloadPolicies` goes: set by `serve` when it has a policy directory to reload from. */
  setReloader(reloader: Reloader): void {
    this.#admin.setReloader(reloader);
  }

  /**
   * Admin: reload the policies now (as a file change or SIGHUP would). Resolves with the outcome
   * when they were applied or unchanged; rejects with the reason (INVALID_ARGUMENT with every
   * file:line:column problem, FAILED_PRECONDITION listing orphans) while the old ones keep serving.
   */
  reloadPolicies(ctx: CallContext): Promise<{ result: string; policyHash: string; previousHash: string }> {
    return this.#admin.reloadPolicies(ctx);
  }

  /** Recorded for /readyz: the last policy reload's failure, or undefined after a success. */
  setLastReloadError(message: string | undefined): void {
    this.#admin.setLastReloadError(message);
  }

  /**
   * Readiness goes false at once so load balancers stop routing; calls in flight still finish.
   * Watch streams end here (UNAVAILABLE): they never finish on their own and would hold the
   * drain open until the grace period expires.
   */
  beginShutdown(): void {
    this.#admin.beginShutdown();
    this.#watches.failAll(
      new UnavailableError('the server is shutting down: reconnect and resume from your last token'),
    );
  }

  /** Stop following the store and fail pending consistency waits. Does not close the store (its owner does). */
  close(): void {
    this.beginShutdown();
    void this.#generations.current.replica.close();
    void this.#validator.close();
  }

  async check(params: CheckParams, ctx: CallContext): Promise<CheckResult> {
    return this.#checks.checkNow(params, ctx);
  }

  /**
   * `check` for the transports: the answer itself, synchronously, when the consistency choice
   * needs no wait (minimize_latency, or a token the local graph already covers), so a call is
   * answered in the tick that decoded it, without promises; a promise otherwise. Throws
   * synchronously what `check` rejects with.
   */
  checkNow(params: CheckParams, ctx: CallContext): CheckResult | Promise<CheckResult> {
    return this.#checks.checkNow(params, ctx);
  }

  async checkBatch(params: CheckBatchParams, ctx: CallContext): Promise<CheckBatchResult> {
    return this.#checks.checkBatchNow(params, ctx);
  }

  /** `checkBatch` for the transports, synchronous when it can be, as `checkNow`. */
  checkBatchNow(params: CheckBatchParams, ctx: CallContext): CheckBatchResult | Promise<CheckBatchResult> {
    return this.#checks.checkBatchNow(params, ctx);
  }

  lookupResources(params: LookupResourcesParams, ctx: CallContext): Promise<LookupResourcesResult> {
    return this.#lookups.lookupResources(params, ctx);
  }

  /**
   * Every page of a lookup into `sink`, all computed at one revision: the walk runs once, after
   * the consistency wait, and each page is a slice of its answer. Between pages the stream
   * gives the event loop back (checks and other lookups answer meanwhile), waits while the
   * client is not reading, and stops once it has gone, so neither a slow reader nor a large
   * answer holds the process.
   */
  streamLookupResources(
    params: LookupResourcesParams,
    ctx: CallContext,
    sink: LookupPageSink,
  ): Promise<void> {
    return this.#lookups.streamLookupResources(params, ctx, sink);
  }

  lookupSubjects(params: LookupSubjectsParams, ctx: CallContext): Promise<LookupSubjectsResult> {
    return this.#lookups.lookupSubjects(params, ctx);
  }

  explain(params: CheckParams, ctx: CallContext): Promise<ExplainResult> {
    return this.#checks.explain(params, ctx);
  }

  writeRelationships(params: WriteParams, ctx: CallContext): Promise<WriteResult> {
    return this.#writes.writeRelationships(params, ctx);
  }

  deleteRelationships(params: DeleteRelationshipsParams, ctx: CallContext): Promise<DeleteResult> {
    return this.#writes.deleteRelationships(params, ctx);
  }

  deleteObject(params: DeleteObjectParams, ctx: CallContext): Promise<DeleteResult> {
    return this.#writes.deleteObject(params, ctx);
  }

  readRelationships(params: ReadParams, ctx: CallContext): Promise<ReadResult> {
    return this.#writes.readRelationships(params, ctx);
  }

  /**
   * Every revision committed after the start token (or after now), as an async iterator. End it
   * with `return()` (for-await `break`); it fails with RESOURCE_EXHAUSTED if the consumer falls
   * too far behind, and with UNAVAILABLE at shutdown.
   */
  watch(params: WatchParams, ctx: CallContext): Promise<WatchFeed> {
    return this.#watches.watch(params, ctx);
  }

  readSchema(ctx: CallContext): SchemaResult {
    return this.#admin.readSchema(ctx);
  }

  /** Compiles in a worker thread (PolicyValidator) so checks keep being answered meanwhile. */
  validatePolicies(params: ValidatePoliciesParams, ctx: CallContext): Promise<ValidatePoliciesResult> {
    return this.#admin.validatePolicies(params, ctx);
  }
}

/**
 * Records a generation's replication delays only while it serves: after a reload the old
 * generation keeps following for a grace period and the new one catches up meanwhile, and a
 * change both apply is counted once.
 */
function servingOnly(series: Series, serving: () => boolean): { observe(seconds: number): void } {
  return {
    observe(seconds) {
      if (serving()) series.observe(seconds);
    },
  };
}
