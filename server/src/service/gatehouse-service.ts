// The transport-free use cases of Gatehouse: every gRPC and HTTP operation is one method here.
// Validates input once, enforces limits and auth, honours consistency, then asks the engine
// (reads) or the store (writes); results carry the revision token they were computed at.
import type { Limits } from '../config/config.js';
import type { BatchCheckResult, CheckRequest } from '../engine/types.js';
import {
  DeadlineExceededError,
  InvalidArgumentError,
  LimitExceededError,
  PolicyError,
  UnavailableError,
} from '../errors.js';
import type { Relationship } from '../model/relationship.js';
import type { Logger } from '../observability/logger.js';
import { compilePolicySet } from '../policy/index.js';
import { deletionConsequences, type Schema } from '../schema/schema.js';
import { schemaToJson } from '../schema/validate.js';
import type { ChangeSet, Revision, Store, Unsubscribe } from '../store/store.js';
import { type Authorizer, OPEN_AUTHORIZER } from './auth/token-authorizer.js';
import { GraphReplica } from './graph-replica.js';
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
import { decodeRevisionToken, encodeRevisionToken } from './revision-token.js';
import {
  validateCheck,
  validateCheckBatch,
  validateFilter,
  validateLookupResources,
  validateLookupSubjects,
  validateObjectRef,
  validatePreconditions,
  validateRead,
  validateTypeName,
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
  readonly schema: Schema;
  readonly limits: Limits;
  readonly #store: Store;
  readonly #replica: GraphReplica;
  readonly #auth: Authorizer;
  readonly #schemaJson: string;
  readonly #watchBuffer: number;
  readonly #feeds = new Set<WatchFeed>();
  readonly #logger: Logger | undefined;
  #shuttingDown = false;
  #tokenRevision = -1;
  #token = '';

  private constructor(options: GatehouseServiceOptions, replica: GraphReplica) {
    this.schema = options.schema;
    this.limits = options.limits;
    this.#store = options.store;
    this.#replica = replica;
    this.#auth = options.authorizer ?? OPEN_AUTHORIZER;
    this.#schemaJson = JSON.stringify(schemaToJson(options.schema));
    this.#watchBuffer = options.watchBufferRevisions ?? DEFAULT_WATCH_BUFFER;
    this.#logger = options.logger;
  }

  /** Build the local graph from the store and start following it; ready when this resolves. */
  static async create(options: GatehouseServiceOptions): Promise<GatehouseService> {
    const replica = await GraphReplica.start(options.schema, options.store, {
      maxDepth: options.limits.maxDepth,
      maxLookupPageSize: options.limits.maxPageSize,
    });
    return new GatehouseService(options, replica);
  }

  /** Ready to answer: in sync with the store and not shutting down. */
  get ready(): boolean {
    return !this.#shuttingDown && this.#replica.failure === undefined;
  }

  /** The revision the local graph stands at. */
  get revision(): Revision {
    return this.#replica.revision;
  }

  get relationshipCount(): number {
    return this.#replica.relationshipCount;
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
    this.#replica.close();
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
    const v = validateCheck(this.schema, params);
    if (!this.#reached(v.consistency)) {
      return this.#reach(v.consistency, ctx.deadline).then(() => this.#answerCheck(v.check));
    }
    return this.#answerCheck(v.check);
  }

  #answerCheck(check: CheckRequest): CheckResult {
    return { allowed: this.#replica.engine.check(check), token: this.#currentToken() };
  }

  async checkBatch(params: CheckBatchParams, ctx: CallContext): Promise<CheckBatchResult> {
    return this.checkBatchNow(params, ctx);
  }

  /** `checkBatch` for the transports, synchronous when it can be, as `checkNow`. */
  checkBatchNow(params: CheckBatchParams, ctx: CallContext): CheckBatchResult | Promise<CheckBatchResult> {
    this.#auth.authorize(ctx, 'CheckBatch');
    const v = validateCheckBatch(this.schema, params, this.limits.maxBatchSize);
    if (!this.#reached(v.consistency)) {
      return this.#reach(v.consistency, ctx.deadline).then(() => this.#answerBatch(v));
    }
    return this.#answerBatch(v);
  }

  #answerBatch(v: ValidatedCheckBatch): CheckBatchResult {
    const engine = this.#replica.engine;
    if (v.invalid === 0)
      return { results: engine.checkBatch(v.items as CheckRequest[]), token: this.#currentToken() };
    const valid: CheckRequest[] = [];
    for (const item of v.items) if (!(item instanceof Error)) valid.push(item);
    const answers = valid.length === 0 ? [] : engine.checkBatch(valid);
    // Weave engine answers back between the items that failed validation, keeping request order.
    const results: BatchCheckResult[] = new Array(v.items.length);
    let next = 0;
    for (let i = 0; i < v.items.length; i++) {
      const item = v.items[i]!;
      results[i] = item instanceof Error ? { error: item } : answers[next++]!;
    }
    return { results, token: this.#currentToken() };
  }

  async lookupResources(params: LookupResourcesParams, ctx: CallContext): Promise<LookupResourcesResult> {
    this.#auth.authorize(ctx, 'LookupResources');
    const v = validateLookupResources(this.schema, params, this.limits.maxPageSize);
    if (!this.#reached(v.consistency)) await this.#reach(v.consistency, ctx.deadline);
    const page = this.#replica.engine.lookupResources({
      resourceType: v.resourceType,
      permission: v.permission,
      subject: v.subject,
      limit: v.pageSize,
      cursor: v.cursor,
    });
    return { resourceIds: page.resourceIds, nextCursor: page.nextCursor, token: this.#currentToken() };
  }

  /**
   * Every page of a lookup, delivered to `onPage` synchronously after the consistency wait, so
   * all pages of one stream are computed at the same revision.
   */
  async streamLookupResources(
    params: LookupResourcesParams,
    ctx: CallContext,
    onPage: (page: LookupResourcesResult) => void,
  ): Promise<void> {
    this.#auth.authorize(ctx, 'LookupResources');
    const v = validateLookupResources(this.schema, params, this.limits.maxPageSize);
    if (!this.#reached(v.consistency)) await this.#reach(v.consistency, ctx.deadline);
    const token = this.#currentToken();
    const pages = this.#replica.engine.lookupResourcePages({
      resourceType: v.resourceType,
      permission: v.permission,
      subject: v.subject,
      limit: v.pageSize,
      cursor: v.cursor,
    });
    for (const page of pages) {
      onPage({ resourceIds: page.resourceIds, nextCursor: page.nextCursor, token });
      if (page.nextCursor !== undefined && Date.now() > ctx.deadline) {
        throw new DeadlineExceededError(
          'the deadline passed while streaming lookup pages: resume with the last nextCursor',
        );
      }
    }
  }

  async lookupSubjects(params: LookupSubjectsParams, ctx: CallContext): Promise<LookupSubjectsResult> {
    this.#auth.authorize(ctx, 'LookupSubjects');
    const v = validateLookupSubjects(this.schema, params);
    if (!this.#reached(v.consistency)) await this.#reach(v.consistency, ctx.deadline);
    const r = this.#replica.engine.lookupSubjects({
      resource: v.resource,
      permission: v.permission,
      subjectType: v.subjectType,
      subjectRelation: v.subjectRelation,
    });
    return {
      subjectIds: r.subjectIds,
      wildcard: r.wildcard,
      excludedIds: r.excludedIds,
      token: this.#currentToken(),
    };
  }

  async explain(params: CheckParams, ctx: CallContext): Promise<ExplainResult> {
    this.#auth.authorize(ctx, 'Explain');
    const v = validateCheck(this.schema, params);
    if (!this.#reached(v.consistency)) await this.#reach(v.consistency, ctx.deadline);
    const e = this.#replica.engine.explain(v.check);
    return { allowed: e.allowed, root: e.root, token: this.#currentToken() };
  }

  async writeRelationships(params: WriteParams, ctx: CallContext): Promise<WriteResult> {
    this.#auth.authorize(ctx, 'WriteRelationships');
    const v = validateWrite(this.schema, params, this.limits.maxWriteUpdates);
    const change = await this.#commit(
      'WriteRelationships',
      this.#store.write(v.updates, v.preconditions),
      ctx,
    );
    return { token: encodeRevisionToken(change.revision) };
  }

  async deleteRelationships(params: DeleteRelationshipsParams, ctx: CallContext): Promise<DeleteResult> {
    this.#auth.authorize(ctx, 'DeleteRelationships');
    if ((params.preconditions?.length ?? 0) > this.limits.maxWriteUpdates) {
      throw new LimitExceededError(
        `${params.preconditions?.length} preconditions exceed the limit of ${this.limits.maxWriteUpdates}: send fewer`,
        { field: 'preconditions' },
      );
    }
    const filter = validateFilter(this.schema, params.filter, 'filter', true);
    const preconditions = validatePreconditions(this.schema, params.preconditions);
    const change = await this.#commit(
      'DeleteRelationships',
      this.#store.deleteByFilter(filter, preconditions),
      ctx,
    );
    return {
      token: encodeRevisionToken(change.revision),
      deletedCount: change.changes.length,
      consequences: [],
    };
  }

  async deleteObject(params: DeleteObjectParams, ctx: CallContext): Promise<DeleteResult> {
    this.#auth.authorize(ctx, 'DeleteObject');
    validateObjectRef(params.object, 'object');
    validateTypeName(this.schema, params.object.type, 'object');
    const change = await this.#commit(
      'DeleteObject',
      this.#store.deleteObject(params.object, deletionConsequences(this.schema)),
      ctx,
    );
    const consequences: Relationship[] = [];
    let deletedCount = 0;
    for (const c of change.changes) {
      if (c.operation === 'delete') deletedCount++;
      else consequences.push(c.relationship);
    }
    return { token: encodeRevisionToken(change.revision), deletedCount, consequences };
  }

  async readRelationships(params: ReadParams, ctx: CallContext): Promise<ReadResult> {
    this.#auth.authorize(ctx, 'ReadRelationships');
    const v = validateRead(this.schema, params, this.limits.maxPageSize);
    // Reads go to the store, which always answers at its newest revision: every consistency is met.
    const page = await withDeadline(
      this.#store.read(v.filter, { limit: v.pageSize, cursor: v.cursor }),
      ctx.deadline,
    );
    return {
      relationships: page.relationships,
      nextCursor: page.nextCursor,
      token: encodeRevisionToken(page.revision),
    };
  }

  /**
   * Every revision committed after the start token (or after now), as an async iterator. End it
   * with `return()` (for-await `break`); it fails with RESOURCE_EXHAUSTED if the consumer falls
   * too far behind, and with UNAVAILABLE at shutdown.
   */
  async watch(params: WatchParams, ctx: CallContext): Promise<WatchFeed> {
    this.#auth.authorize(ctx, 'Watch');
    const after =
      params.startToken === undefined || params.startToken === ''
        ? await withDeadline(this.#store.revision(), ctx.deadline)
        : decodeRevisionToken(params.startToken, 'optionalStartCursor.token');
    const feed = new WatchFeed(this.#watchBuffer);
    let unsubscribe: Unsubscribe | undefined;
    let ended = false;
    // Set before subscribing: the synchronous replay may already overflow and end the feed.
    feed.onClose = () => {
      ended = true;
      unsubscribe?.();
      this.#feeds.delete(feed);
    };
    // store.watch replays synchronously; a FailedPreconditionError (token too old) surfaces here.
    unsubscribe = this.#store.watch(after, (change) =>
      feed.push({ changes: change.changes, token: encodeRevisionToken(change.revision) }),
    );
    if (ended) unsubscribe();
    else this.#feeds.add(feed);
    return feed;
  }

  readSchema(ctx: CallContext): SchemaResult {
    this.#auth.authorize(ctx, 'ReadSchema');
    return { schemaJson: this.#schemaJson, schemaHash: this.schema.hash };
  }

  validatePolicies(params: ValidatePoliciesParams, ctx: CallContext): ValidatePoliciesResult {
    this.#auth.authorize(ctx, 'ValidatePolicies');
    if (params.files.length === 0) {
      throw new InvalidArgumentError('files is empty: send the policy files to validate', { field: 'files' });
    }
    try {
      compilePolicySet(params.files);
      return { valid: true, problems: [] };
    } catch (err) {
      if (err instanceof PolicyError) return { valid: false, problems: err.problems };
      throw err;
    }
  }

  /** The token of the graph's current revision, re-encoded only when the revision moves. */
  #currentToken(): string {
    const revision = this.#replica.revision;
    if (revision !== this.#tokenRevision) {
      this.#token = encodeRevisionToken(revision);
      this.#tokenRevision = revision;
    }
    return this.#token;
  }

  /** True when the local graph already satisfies the requirement without asking the store. */
  #reached(c: ValidatedConsistency): boolean {
    return (
      c.kind === 'minimize_latency' ||
      (c.kind === 'at_least_as_fresh' && c.revision <= this.#replica.revision)
    );
  }

  /**
   * Wait until the local graph satisfies the consistency requirement, bounded by the deadline.
   * Callers ask `#reached` first, so this only runs when the store must be consulted.
   */
  async #reach(c: ValidatedConsistency, deadline: number): Promise<void> {
    if (c.kind === 'at_least_as_fresh') {
      const newest = await withDeadline(this.#store.revision(), deadline);
      if (c.revision > newest) {
        throw new InvalidArgumentError(
          `revision token names revision ${c.revision} but the store's newest is ${newest}: it was issued by another deployment`,
          { field: 'consistency.atLeastAsFresh.token' },
        );
      }
      return this.#replica.waitFor(c.revision, deadline);
    }
    if (c.kind === 'fully_consistent') {
      const newest = await withDeadline(this.#store.revision(), deadline);
      return this.#replica.waitFor(newest, deadline);
    }
  }

  /** Commit a store write, then wait for the local graph to apply it so this replica reads its own writes. */
  async #commit(operation: string, write: Promise<ChangeSet>, ctx: CallContext): Promise<ChangeSet> {
    const change = await withDeadline(write, ctx.deadline);
    this.#logger?.info(
      { operation, requestId: ctx.requestId, revision: change.revision, changes: change.changes.length },
      'committed',
    );
    await this.#replica.waitFor(change.revision, ctx.deadline);
    return change;
  }
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
