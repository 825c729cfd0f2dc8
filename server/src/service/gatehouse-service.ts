// The transport-free use cases of Gatehouse: every gRPC and HTTP operation is one method here.
// Validates input once, enforces limits and auth, honours consistency, then asks the engine
// (reads) or the store (writes); results carry the revision token they were computed at.
// What a request reads (schema, compiled schema JSON, replica and engine, deletion
// consequences) lives in one immutable Generation that the request captures once, so a policy
// reload replaces it with one assignment between requests.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Limits } from '../config/config.js';
import { type ResolvedCheck, Resolver } from '../engine/resolve.js';
import type { BatchCheckResult, CheckRequest } from '../engine/types.js';
import {
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  LimitExceededError,
  UnavailableError,
} from '../errors.js';
import type { Relationship } from '../model/relationship.js';
import type { DecisionLog, DecisionScope } from '../observability/decision-log.js';
import type { Logger } from '../observability/logger.js';
import { type DeletionConsequence, deletionConsequences, type Schema } from '../schema/schema.js';
import { schemaToJson } from '../schema/validate.js';
import type { CompiledGraphStats } from '../store/redis/graph-snapshot-source.js';
import type { ChangeSet, Revision, Store, StoreIdentity } from '../store/store.js';
import { type Authorizer, OPEN_AUTHORIZER } from './auth/token-authorizer.js';
import {
  type EpochChange,
  GraphReplica,
  type GraphReplicaOptions,
  type ReplicaStatus,
} from './graph-replica.js';
import { LOOKUP_IDS_PER_TURN, type LookupPageSink, untilReady } from './lookup-page-sink.js';
import { deleteObject } from './object-deletion.js';
import type { ReloadOutcome } from './policy-reload.js';
import { PolicyValidator, type PolicyValidatorOptions } from './policy-validator.js';
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
  ValidatedCheckBatch,
  ValidatedConsistency,
  ValidatePoliciesParams,
  ValidatePoliciesResult,
  WatchParams,
  WriteParams,
  WriteResult,
} from './requests.js';
import { decodeRevisionToken, encodeRevisionToken, tokenIdentityError } from './revision-token.js';
import {
  validateCheck,
  validateCheckBatch,
  validateFilter,
  validateLookupResources,
  validateLookupSubjects,
  validatePreconditions,
  validateRead,
  validateWrite,
} from './validate-requests.js';
import { WatchFeed } from './watch-feed.js';

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
const TOKEN_FIELD = 'consistency.atLeastAsFresh.token';

/** Everything a request reads that a policy reload replaces: immutable, captured once per request. */
export interface Generation {
  readonly schema: Schema;
  /** Resolves every request's names against `schema`, once (engine/resolve.ts). */
  readonly resolver: Resolver;
  readonly schemaJson: string;
  readonly schemaHash: string;
  readonly replica: GraphReplica;
  readonly consequences: readonly DeletionConsequence[];
}

/** The /readyz detail. */
export interface Readiness {
  readonly ready: boolean;
  /** ok: following the store; degraded: answering from local state that may be behind. */
  readonly state: 'ok' | 'degraded';
  readonly replicaState: ReplicaStatus['state'];
  readonly lagRevisions: number;
  readonly lagSeconds: number;
  readonly storeKind: string;
  readonly store: string;
  readonly epoch: string;
  readonly revision: Revision;
  readonly policyHash: string;
  readonly lastError?: string | undefined;
  readonly lastReloadError?: string | undefined;
  readonly lostRevisions?: number | undefined;
  /** Why not ready, when not. */
  readonly reason?: string | undefined;
}

/** Build a generation: the replica's graph is built from the store and follows it. */
export async function buildGeneration(
  schema: Schema,
  store: Store,
  options: Pick<GatehouseServiceOptions, 'limits' | 'logger' | 'onEpochChanged' | 'clock' | 'graphSource'>,
): Promise<Generation> {
  const replica = await GraphReplica.start(schema, store, {
    engine: {
      maxDepth: options.limits.maxDepth,
      maxLookupPageSize: options.limits.maxPageSize,
      clock: options.clock,
    },
    logger: options.logger,
    onEpochChanged: options.onEpochChanged,
    clock: options.clock,
    graphSource: options.graphSource,
  });
  return Object.freeze({
    schema,
    resolver: new Resolver(schema),
    schemaJson: JSON.stringify(schemaToJson(schema)),
    schemaHash: schema.hash,
    replica,
    consequences: Object.freeze(deletionConsequences(schema)),
  });
}

/**
 * One method per API operation. Every method validates its params first (InvalidArgumentError
 * naming the field, LimitExceededError past a limit) and changes nothing when it throws. Each
 * first asks the authorizer (UnauthenticatedError, PermissionDeniedError). Reads
 * honour their consistency requirement within `ctx.deadline` (DeadlineExceededError); store
 * errors pass through with their own codes.
 */
export class GatehouseService {
  readonly limits: Limits;
  readonly #store: Store;
  readonly #options: GatehouseServiceOptions;
  /** The one field a policy reload assigns. */
  #gen: Generation;
  readonly #auth: Authorizer;
  readonly #watchBuffer: number;
  readonly #feeds = new Set<WatchFeed>();
  readonly #logger: Logger | undefined;
  #shuttingDown = false;
  #lastReloadError: string | undefined;
  #reloader: { reload(reason: string): Promise<ReloadOutcome> } | undefined;
  #tokenRevision = -1;
  #tokenIdentity: StoreIdentity | undefined;
  #token = '';
  readonly #decisions: DecisionLog | undefined;
  readonly #validator: PolicyValidator;

  private constructor(options: GatehouseServiceOptions, generation: Generation) {
    this.limits = options.limits;
    this.#options = options;
    this.#store = options.store;
    this.#gen = generation;
    this.#auth = options.authorizer ?? OPEN_AUTHORIZER;
    this.#watchBuffer = options.watchBufferRevisions ?? DEFAULT_WATCH_BUFFER;
    this.#logger = options.logger;
    this.#decisions = options.decisionLog;
    this.#validator = new PolicyValidator({
      maxInputBytes: options.limits.maxBodyBytes,
      logger: options.logger,
      ...options.validator,
    });
  }

  /** Build the local graph from the store and start following it; ready when this resolves. */
  static async create(options: GatehouseServiceOptions): Promise<GatehouseService> {
    return new GatehouseService(options, await buildGeneration(options.schema, options.store, options));
  }

  /** The schema of the current generation. */
  get schema(): Schema {
    return this.#gen.schema;
  }

  /** The current generation: what a request started now reads. */
  get generation(): Generation {
    return this.#gen;
  }

  get store(): Store {
    return this.#store;
  }

  /** Ready while serving: answering from a local graph and not shutting down (degraded still serves). */
  get ready(): boolean {
    return this.readiness().ready;
  }

  /** The revision the local graph stands at. */
  get revision(): Revision {
    return this.#gen.replica.revision;
  }

  get relationshipCount(): number {
    return this.#gen.replica.relationshipCount;
  }

  /** The active policy hash: the current generation's schema hash. */
  get policyHash(): string {
    return this.#gen.schemaHash;
  }

  /** The compiled-graph cache's counters (loads, corrupt snapshots, publishes); undefined without one. */
  graphSnapshotStats(): CompiledGraphStats | undefined {
    return this.#options.graphSource?.stats;
  }

  /** The replica's status: state, lag, last error (for metrics and /readyz). */
  replicaStatus(): ReplicaStatus {
    return this.#gen.replica.status();
  }

  /**
   * The /readyz answer: ready while serving, `degraded` with the lag when the store cannot be
   * followed; not ready when shutting down, or when the lag passes `maxLagMs` (if set).
   */
  readiness(): Readiness {
    const g = this.#gen;
    const status = g.replica.status();
    const degraded = status.state !== 'following';
    const maxLagMs = this.#options.maxLagMs ?? 0;
    let reason: string | undefined;
    if (this.#shuttingDown) reason = 'shutting down';
    else if (status.state === 'closed' || status.state === 'building') reason = `replica ${status.state}`;
    else if (maxLagMs > 0 && degraded && status.lagSeconds * 1000 > maxLagMs)
      reason = `replication lag ${status.lagSeconds.toFixed(1)} s exceeds the configured maximum of ${maxLagMs} ms`;
    return {
      ready: reason === undefined,
      state: degraded ? 'degraded' : 'ok',
      replicaState: status.state,
      lagRevisions: status.lagRevisions,
      lagSeconds: status.lagSeconds,
      storeKind: this.#store.kind,
      store: status.identity.name,
      epoch: status.identity.epoch,
      revision: status.revision,
      policyHash: g.schemaHash,
      lastError: status.lastError,
      lastReloadError: this.#lastReloadError,
      lostRevisions: status.lostRevisions === 0 ? undefined : status.lostRevisions,
      reason,
    };
  }

  /**
   * Serve `next` from now on: one assignment, between requests (requests in flight finish on
   * the generation they captured). The old replica stops following after `graceMs`, so waits
   * already pending on it can still be met.
   */
  replaceGeneration(next: Generation, graceMs = 10_000): void {
    const old = this.#gen;
    this.#gen = next;
    if (old.replica !== next.replica) {
      const timer = setTimeout(() => void old.replica.close(), graceMs);
      timer.unref();
    }
  }

  /** Where `reloadPolicies` goes: set by `serve` when it has a policy directory to reload from. */
  setReloader(reloader: { reload(reason: string): Promise<ReloadOutcome> }): void {
    this.#reloader = reloader;
  }

  /**
   * Admin: reload the policies now (as a file change or SIGHUP would). Resolves with the outcome
   * when they were applied or unchanged; rejects with the reason (INVALID_ARGUMENT with every
   * file:line:column problem, FAILED_PRECONDITION listing orphans) while the old ones keep serving.
   */
  async reloadPolicies(
    ctx: CallContext,
  ): Promise<{ result: string; policyHash: string; previousHash: string }> {
    this.#auth.authorize(ctx, 'ReloadPolicies');
    if (this.#reloader === undefined) {
      throw new FailedPreconditionError('this server has no policy directory to reload from');
    }
    const outcome = await this.#reloader.reload('api');
    if (outcome.error !== undefined) throw outcome.error;
    return { result: outcome.result, policyHash: outcome.policyHash, previousHash: outcome.previousHash };
  }

  /** Recorded for /readyz: the last policy reload's failure, or undefined after a success. */
  setLastReloadError(message: string | undefined): void {
    this.#lastReloadError = message;
  }

  /**
   * Readiness goes false at once so load balancers stop routing; calls in flight still finish.
   * Watch streams end here (UNAVAILABLE): they never finish on their own and would hold the
   * drain open until the grace period expires.
   */
  beginShutdown(): void {
    this.#shuttingDown = true;
    for (const feed of this.#feeds) {
      feed.fail(
        new UnavailableError('the server is shutting down: reconnect and resume from your last token'),
      );
    }
  }

  /** Stop following the store and fail pending consistency waits. Does not close the store (its owner does). */
  close(): void {
    this.beginShutdown();
    void this.#gen.replica.close();
    void this.#validator.close();
  }

  async check(params: CheckParams, ctx: CallContext): Promise<CheckResult> {
    return this.checkNow(params, ctx);
  }

  /**
   * `check` for the transports: the answer itself, synchronously, when the consistency choice
   * needs no wait (minimize_latency, or a token the local graph already covers), so a call is
   * answered in the tick that decoded it, without promises; a promise otherwise. Throws
   * synchronously what `check` rejects with.
   */
  checkNow(params: CheckParams, ctx: CallContext): CheckResult | Promise<CheckResult> {
    this.#auth.authorize(ctx, 'Check');
    if (this.#decisions !== undefined) return this.#checkLogged(params, ctx, this.#decisions);
    const g = this.#gen;
    const v = validateCheck(g.resolver, params);
    if (!this.#reached(g, v.consistency)) {
      return this.#reach(g, v.consistency, ctx.deadline).then(() => this.#answerCheck(g, v.check));
    }
    return this.#answerCheck(g, v.check);
  }

  #answerCheck(g: Generation, check: ResolvedCheck): CheckResult {
    const d = g.replica.engine.decide(check);
    return d.permissionship === 'conditional'
      ? {
          allowed: false,
          permissionship: 'conditional',
          missingContext: d.missingContext,
          token: this.#currentToken(g),
        }
      : {
          allowed: d.permissionship === 'allowed',
          permissionship: d.permissionship,
          token: this.#currentToken(g),
        };
  }

  async checkBatch(params: CheckBatchParams, ctx: CallContext): Promise<CheckBatchResult> {
    return this.checkBatchNow(params, ctx);
  }

  /** `checkBatch` for the transports, synchronous when it can be, as `checkNow`. */
  checkBatchNow(params: CheckBatchParams, ctx: CallContext): CheckBatchResult | Promise<CheckBatchResult> {
    this.#auth.authorize(ctx, 'CheckBatch');
    if (this.#decisions !== undefined) return this.#checkBatchLogged(params, ctx, this.#decisions);
    const g = this.#gen;
    const v = validateCheckBatch(g.resolver, params, this.limits.maxBatchSize);
    if (!this.#reached(g, v.consistency)) {
      return this.#reach(g, v.consistency, ctx.deadline).then(() => this.#answerBatch(g, v));
    }
    return this.#answerBatch(g, v);
  }

  #answerBatch(g: Generation, v: ValidatedCheckBatch): CheckBatchResult {
    const engine = g.replica.engine;
    if (v.invalid === 0)
      return { results: engine.checkBatch(v.items as ResolvedCheck[]), token: this.#currentToken(g) };
    const valid: ResolvedCheck[] = [];
    for (const item of v.items) if (!(item instanceof Error)) valid.push(item);
    const answers = valid.length === 0 ? [] : engine.checkBatch(valid);
    // Weave engine answers back between the items that failed validation, keeping request order.
    const results: BatchCheckResult[] = new Array(v.items.length);
    let next = 0;
    for (let i = 0; i < v.items.length; i++) {
      const item = v.items[i]!;
      results[i] = item instanceof Error ? { error: item } : answers[next++]!;
    }
    return { results, token: this.#currentToken(g) };
  }

  async lookupResources(params: LookupResourcesParams, ctx: CallContext): Promise<LookupResourcesResult> {
    this.#auth.authorize(ctx, 'LookupResources');
    const start = this.#decisions === undefined ? 0 : performance.now();
    const g = this.#gen;
    const v = validateLookupResources(g.resolver, params, this.limits.maxPageSize);
    if (!this.#reached(g, v.consistency)) await this.#reach(g, v.consistency, ctx.deadline);
    const page = g.replica.engine.lookupResources(v.lookup);
    if (this.#decisions !== undefined)
      this.#logLookup('lookupResources', g, v.lookup, page.resourceIds.length, ctx, start);
    const result = {
      resourceIds: page.resourceIds,
      nextCursor: page.nextCursor,
      token: this.#currentToken(g),
    };
    return page.conditional === undefined ? result : { ...result, conditional: page.conditional };
  }

  /**
   * Every page of a lookup into `sink`, all computed at one revision: the walk runs once, after
   * the consistency wait, and each page is a slice of its answer. Between pages the stream
   * gives the event loop back (checks and other lookups answer meanwhile), waits while the
   * client is not reading, and stops once it has gone, so neither a slow reader nor a large
   * answer holds the process.
   */
  async streamLookupResources(
    params: LookupResourcesParams,
    ctx: CallContext,
    sink: LookupPageSink,
  ): Promise<void> {
    this.#auth.authorize(ctx, 'LookupResources');
    const start = this.#decisions === undefined ? 0 : performance.now();
    const g = this.#gen;
    const v = validateLookupResources(g.resolver, params, this.limits.maxPageSize);
    if (!this.#reached(g, v.consistency)) await this.#reach(g, v.consistency, ctx.deadline);
    if (sink.closed) return;
    const token = this.#currentToken(g);
    const pages = g.replica.engine.lookupResourcePages(v.lookup);
    let count = 0;
    let sinceTurn = 0;
    for (const page of pages) {
      if (sink.closed) return;
      count += page.resourceIds.length;
      sinceTurn += page.resourceIds.length;
      const out = { resourceIds: page.resourceIds, nextCursor: page.nextCursor, token };
      const flowing = sink.write(
        page.conditional === undefined ? out : { ...out, conditional: page.conditional },
      );
      if (page.nextCursor === undefined) break;
      if (!flowing) await untilReady(sink, ctx.deadline);
      else if (sinceTurn >= LOOKUP_IDS_PER_TURN) await nextTurn();
      else continue;
      sinceTurn = 0;
      if (Date.now() >= ctx.deadline) {
        throw new DeadlineExceededError(
          'the deadline passed while streaming lookup pages: resume with the last nextCursor',
        );
      }
    }
    if (this.#decisions !== undefined) this.#logLookup('lookupResources', g, v.lookup, count, ctx, start);
  }

  async lookupSubjects(params: LookupSubjectsParams, ctx: CallContext): Promise<LookupSubjectsResult> {
    this.#auth.authorize(ctx, 'LookupSubjects');
    const start = this.#decisions === undefined ? 0 : performance.now();
    const g = this.#gen;
    const v = validateLookupSubjects(g.resolver, params);
    if (!this.#reached(g, v.consistency)) await this.#reach(g, v.consistency, ctx.deadline);
    const r = g.replica.engine.lookupSubjects(v.lookup);
    if (this.#decisions !== undefined)
      this.#logLookup('lookupSubjects', g, v.lookup, r.subjectIds.length, ctx, start);
    return {
      subjectIds: r.subjectIds,
      wildcard: r.wildcard,
      excludedIds: r.excludedIds,
      ...(r.conditional === undefined ? {} : { conditional: r.conditional }),
      token: this.#currentToken(g),
    };
  }

  async explain(params: CheckParams, ctx: CallContext): Promise<ExplainResult> {
    this.#auth.authorize(ctx, 'Explain');
    const g = this.#gen;
    const v = validateCheck(g.resolver, params);
    if (!this.#reached(g, v.consistency)) await this.#reach(g, v.consistency, ctx.deadline);
    const e = g.replica.engine.explain(v.check);
    return {
      allowed: e.allowed,
      permissionship: e.permissionship,
      missingContext: e.missingContext,
      root: e.root,
      token: this.#currentToken(g),
    };
  }

  async writeRelationships(params: WriteParams, ctx: CallContext): Promise<WriteResult> {
    this.#auth.authorize(ctx, 'WriteRelationships');
    const g = this.#gen;
    const v = validateWrite(g.resolver, params, this.limits.maxWriteUpdates);
    const change = await this.#commit(
      g,
      'WriteRelationships',
      this.#store.write(v.updates, v.preconditions),
      ctx,
    );
    return { token: encodeRevisionToken(change.revision, g.replica.identity) };
  }

  async deleteRelationships(params: DeleteRelationshipsParams, ctx: CallContext): Promise<DeleteResult> {
    this.#auth.authorize(ctx, 'DeleteRelationships');
    if ((params.preconditions?.length ?? 0) > this.limits.maxWriteUpdates) {
      throw new LimitExceededError(
        `${params.preconditions?.length} preconditions exceed the limit of ${this.limits.maxWriteUpdates}: send fewer`,
        { field: 'preconditions' },
      );
    }
    const g = this.#gen;
    const filter = validateFilter(g.resolver, params.filter, 'filter', true);
    const preconditions = validatePreconditions(g.resolver, params.preconditions);
    const change = await this.#commit(
      g,
      'DeleteRelationships',
      this.#store.deleteByFilter(filter, preconditions),
      ctx,
    );
    return {
      token: encodeRevisionToken(change.revision, g.replica.identity),
      deletedCount: change.changes.length,
      consequences: [],
    };
  }

  async deleteObject(params: DeleteObjectParams, ctx: CallContext): Promise<DeleteResult> {
    this.#auth.authorize(ctx, 'DeleteObject');
    const g = this.#gen;
    g.resolver.object(params.object, 'object');
    const change = await this.#commit(
      g,
      'DeleteObject',
      deleteObject(this.#store, params.object, g.consequences),
      ctx,
    );
    const consequences: Relationship[] = [];
    let deletedCount = 0;
    for (const c of change.changes) {
      if (c.operation === 'delete') deletedCount++;
      else consequences.push(c.relationship);
    }
    return { token: encodeRevisionToken(change.revision, g.replica.identity), deletedCount, consequences };
  }

  async readRelationships(params: ReadParams, ctx: CallContext): Promise<ReadResult> {
    this.#auth.authorize(ctx, 'ReadRelationships');
    const g = this.#gen;
    const v = validateRead(g.resolver, params, this.limits.maxPageSize);
    // Reads go to the store, which always answers at its newest revision: every consistency is met.
    const page = await withDeadline(
      this.#store.read(v.filter, { limit: v.pageSize, cursor: v.cursor }),
      ctx.deadline,
    );
    return {
      relationships: page.relationships,
      nextCursor: page.nextCursor,
      token: encodeRevisionToken(page.revision, g.replica.identity),
    };
  }

  /**
   * Every revision committed after the start token (or after now), as an async iterator. End it
   * with `return()` (for-await `break`); it fails with RESOURCE_EXHAUSTED if the consumer falls
   * too far behind, and with UNAVAILABLE at shutdown.
   */
  async watch(params: WatchParams, ctx: CallContext): Promise<WatchFeed> {
    this.#auth.authorize(ctx, 'Watch');
    const g = this.#gen;
    const identity = g.replica.identity;
    let after: Revision;
    if (params.startToken === undefined || params.startToken === '') {
      after = await withDeadline(this.#store.revision(), ctx.deadline);
    } else {
      const token = decodeRevisionToken(params.startToken, 'optionalStartCursor.token');
      if (token.store !== identity.name || token.epoch !== identity.epoch) {
        throw tokenIdentityError(token, identity, 'optionalStartCursor.token');
      }
      after = token.revision;
    }
    const feed = new WatchFeed(this.#watchBuffer);
    const stop = new AbortController();
    feed.onClose = () => {
      stop.abort();
      this.#feeds.delete(feed);
    };
    this.#feeds.add(feed);
    const changes = this.#store.watch(after, stop.signal)[Symbol.asyncIterator]();
    const pump = async (first: Promise<IteratorResult<ChangeSet>>): Promise<void> => {
      try {
        for (let step = await first; !step.done; step = await changes.next()) {
          feed.push({
            changes: step.value.changes,
            token: encodeRevisionToken(step.value.revision, identity),
          });
        }
      } catch (err) {
        feed.fail(err instanceof Error ? err : new Error(String(err)));
      }
    };
    if (after >= g.replica.revision) {
      void pump(changes.next());
      return feed;
    }
    // A start token behind the local graph has changes to replay, so the store's first answer
    // (a ChangeSet, or the failure of a token too old) is due now: settle it before answering,
    // so the caller gets that failure as the call's own error rather than mid-stream.
    let first: IteratorResult<ChangeSet>;
    try {
      first = await withDeadline(changes.next(), ctx.deadline);
    } catch (err) {
      stop.abort();
      this.#feeds.delete(feed);
      throw err;
    }
    void pump(Promise.resolve(first));
    return feed;
  }

  readSchema(ctx: CallContext): SchemaResult {
    this.#auth.authorize(ctx, 'ReadSchema');
    const g = this.#gen;
    return { schemaJson: g.schemaJson, schemaHash: g.schemaHash };
  }

  /** Compiles in a worker thread (PolicyValidator) so checks keep being answered meanwhile. */
  async validatePolicies(params: ValidatePoliciesParams, ctx: CallContext): Promise<ValidatePoliciesResult> {
    this.#auth.authorize(ctx, 'ValidatePolicies');
    if (params.files.length === 0) {
      throw new InvalidArgumentError('files is empty: send the policy files to validate', { field: 'files' });
    }
    return this.#validator.validate(params.files);
  }

  /** `checkNow` with its decision logged (when sampled): the only place checks meet the decision log. */
  #checkLogged(params: CheckParams, ctx: CallContext, log: DecisionLog): CheckResult | Promise<CheckResult> {
    const start = performance.now();
    const g = this.#gen;
    const v = validateCheck(g.resolver, params);
    if (!this.#reached(g, v.consistency)) {
      return this.#reach(g, v.consistency, ctx.deadline).then(() =>
        this.#loggedAnswer(log, g, v.check, ctx, start),
      );
    }
    return this.#loggedAnswer(log, g, v.check, ctx, start);
  }

  #loggedAnswer(
    log: DecisionLog,
    g: Generation,
    check: ResolvedCheck,
    ctx: CallContext,
    start: number,
  ): CheckResult {
    const r = this.#answerCheck(g, check);
    if (log.sample(r.allowed)) {
      const kind = ctx.decisionKind ?? 'check';
      log.logCheck(kind, scopeOf(g), check, r.allowed, ctx.requestId, start, ctx.decisionIndex);
    }
    return r;
  }

  /** `checkBatchNow` with its items logged (when sampled). */
  #checkBatchLogged(
    params: CheckBatchParams,
    ctx: CallContext,
    log: DecisionLog,
  ): CheckBatchResult | Promise<CheckBatchResult> {
    const start = performance.now();
    const g = this.#gen;
    const v = validateCheckBatch(g.resolver, params, this.limits.maxBatchSize);
    const answer = (): CheckBatchResult => {
      const r = this.#answerBatch(g, v);
      log.logBatch(scopeOf(g), v.items, r.results, ctx.requestId, start);
      return r;
    };
    return this.#reached(g, v.consistency)
      ? answer()
      : this.#reach(g, v.consistency, ctx.deadline).then(answer);
  }

  #logLookup(
    kind: 'lookupResources' | 'lookupSubjects',
    g: Generation,
    v: {
      subject?: CheckRequest['subject'];
      resource?: CheckRequest['resource'];
      resourceType?: string;
      subjectType?: string;
      permission: string;
    },
    results: number,
    ctx: CallContext,
    start: number,
  ): void {
    const log = this.#decisions;
    if (log === undefined || !log.sample(true)) return;
    const subject =
      v.subject === undefined
        ? `${v.subjectType}:*`
        : v.subject.relation === undefined
          ? `${v.subject.type}:${v.subject.id}`
          : `${v.subject.type}:${v.subject.id}#${v.subject.relation}`;
    const resource = v.resource === undefined ? `${v.resourceType}:*` : `${v.resource.type}:${v.resource.id}`;
    log.logLookup(
      kind,
      scopeOf(g),
      { subject, resource, permission: v.permission },
      results,
      ctx.requestId,
      start,
    );
  }

  /** The token of the graph's current revision, re-encoded only when the revision (or store epoch) moves. */
  #currentToken(g: Generation): string {
    const revision = g.replica.revision;
    const identity = g.replica.identity;
    if (revision !== this.#tokenRevision || identity !== this.#tokenIdentity) {
      this.#token = encodeRevisionToken(revision, identity);
      this.#tokenRevision = revision;
      this.#tokenIdentity = identity;
    }
    return this.#token;
  }

  /** True when the local graph already satisfies the requirement without asking the store. */
  #reached(g: Generation, c: ValidatedConsistency): boolean {
    if (c.kind === 'minimize_latency') return true;
    if (c.kind !== 'at_least_as_fresh') return false;
    const identity = g.replica.identity;
    return c.revision <= g.replica.revision && c.epoch === identity.epoch && c.store === identity.name;
  }

  /**
   * Wait until the local graph satisfies the consistency requirement, bounded by the deadline.
   * Callers ask `#reached` first, so this only runs when the store must be consulted. A token
   * of other data fails with FAILED_PRECONDITION; a token this replica is behind fails fast with
   * UNAVAILABLE while the store cannot be followed, instead of hanging until the deadline.
   */
  async #reach(g: Generation, c: ValidatedConsistency, deadline: number): Promise<void> {
    const replica = g.replica;
    if (c.kind === 'at_least_as_fresh') {
      const identity = replica.identity;
      if (c.store !== identity.name || c.epoch !== identity.epoch) {
        throw tokenIdentityError(c, identity, TOKEN_FIELD);
      }
      this.#failFastWhenDegraded(replica.state, c.revision, replica.revision);
      const newest = await withDeadline(this.#store.revision(), deadline);
      replica.noteStoreRevision(newest);
      if (c.revision > newest) {
        throw new InvalidArgumentError(
          `revision token names revision ${c.revision} but the store's newest is ${newest}: it was not issued by this store`,
          { field: TOKEN_FIELD },
        );
      }
      return replica.waitFor(c.revision, deadline);
    }
    if (c.kind === 'fully_consistent') {
      const newest = await withDeadline(this.#store.revision(), deadline);
      replica.noteStoreRevision(newest);
      if (newest > replica.revision) this.#failFastWhenDegraded(replica.state, newest, replica.revision);
      return replica.waitFor(newest, deadline);
    }
  }

  #failFastWhenDegraded(state: ReplicaStatus['state'], wanted: Revision, local: Revision): void {
    if (state === 'degraded') {
      throw new UnavailableError(
        `this replica cannot follow the store right now and stands at revision ${local}, behind the requested ${wanted}: retry on another replica, later, or with minimize_latency`,
      );
    }
  }

  /** Commit a store write, then wait for the local graph to apply it so this replica reads its own writes. */
  async #commit(
    g: Generation,
    operation: string,
    write: Promise<ChangeSet>,
    ctx: CallContext,
  ): Promise<ChangeSet> {
    const change = await withDeadline(write, ctx.deadline);
    this.#logger?.info(
      { operation, requestId: ctx.requestId, revision: change.revision, changes: change.changes.length },
      'committed',
    );
    g.replica.noteStoreRevision(change.revision);
    await g.replica.waitFor(change.revision, ctx.deadline);
    return change;
  }
}

/** What a decision line names of the generation it was made on. */
function scopeOf(g: Generation): DecisionScope {
  return { engine: g.replica.engine, policyHash: g.schemaHash, revision: g.replica.revision };
}

/** Race a store call against the deadline. The call itself is not cancelled (stores cannot abort). */
function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  const ms = deadline - Date.now();
  if (ms <= 0) {
    work.catch(() => undefined);
    return Promise.reject(
      new DeadlineExceededError(
        'the deadline passed before the store could be asked: retry with a longer deadline',
      ),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DeadlineExceededError(
            `the store did not answer within the deadline (${ms} ms): retry with a longer deadline`,
          ),
        ),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
