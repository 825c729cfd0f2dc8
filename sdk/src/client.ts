// GatehouseClient: every business operation, written once over any Transport.
import { deadlineError, deadlineFrom, expired } from './call.js';
import { CheckSender } from './check-sender.js';
import { CancelledError, InternalError, InvalidArgumentError, UnavailableError } from './errors.js';
import { checkRequestId } from './headers.js';
import { Paged } from './paged.js';
import { toObjectRef, toSubjectRef } from './refs.js';
import { checkItemToWire, preconditionsToWire, requestContextToWire, writeToWire } from './requests.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetries } from './retry.js';
import { readStream } from './stream.js';
import { traceContextHeaders } from './trace-context.js';
import type { Transport, TransportCallOptions, UnaryMethod, WireMessage } from './transport.js';
import type {
  CallOptions,
  CheckBatchResult,
  CheckRequest,
  CheckResult,
  Consistency,
  DeleteObjectResult,
  DeleteRelationshipsRequest,
  DeleteResult,
  ExplainResult,
  LookupResourcesPage,
  LookupResourcesRequest,
  LookupSubjectsRequest,
  LookupSubjectsResult,
  ObjectInput,
  PolicyFile,
  ReadOptions,
  ReadPage,
  ReadRequest,
  Relationship,
  ReloadResult,
  RevisionToken,
  SchemaResult,
  ValidationResult,
  WatchEvent,
  WatchOptions,
  WriteRequest,
  WriteResult,
} from './types.js';
import {
  batchResultFromWire,
  changeFromWire,
  conditionalFromWire,
  consistencyToWire,
  count,
  decisionFromWire,
  explainNodeFromWire,
  filterToWire,
  objectToWire,
  problemFromWire,
  type ResolvedConsistency,
  records,
  relationshipFromWire,
  str,
  strings,
  subjectToWire,
  tokenFromWire,
} from './wire.js';

/** Client-wide settings; every one has a default. */
export interface ClientOptions {
  /** Deadline of each call unless the call sets `timeoutMs` (default 5000 ms; 0 for none; `watch` has none). */
  readonly defaultTimeoutMs?: number | undefined;
  /** Consistency of reads unless the call sets one (default `'minimize-latency'`). */
  readonly consistency?: Consistency | undefined;
  /**
   * Coalesce `check` calls made in the same event-loop turn into one CheckBatch (default on).
   * A batch of one is sent as Check; bigger groups are split at `maxBatchSize` (default 1000,
   * the server's default limit).
   */
  readonly batching?: boolean | { readonly maxBatchSize?: number | undefined } | undefined;
  /** Retries of reads on UNAVAILABLE (default 3 attempts, 50 ms doubling to 1 s); `false` disables. */
  readonly retries?: false | Partial<RetryPolicy> | undefined;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_BATCH_SIZE = 1000;

/**
 * A client of one Gatehouse server, over the transport you give it.
 *
 * @example
 * import { GatehouseClient } from '@gatehouse/sdk';
 * import { createGrpcTransport } from '@gatehouse/sdk/grpc';
 * const client = new GatehouseClient(createGrpcTransport({ address: '127.0.0.1:50051', token }));
 * const { allowed } = await client.check('contact:prospect1#view@user:mike');
 */
export class GatehouseClient {
  readonly #transport: Transport;
  readonly #defaultTimeoutMs: number | undefined;
  readonly #consistency: Consistency;
  readonly #retry: RetryPolicy;
  readonly #checks: CheckSender;
  #newestWriteToken: RevisionToken | undefined;
  // Unary calls not yet settled, which close() lets finish; streams are cut by the transport.
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(transport: Transport, options: ClientOptions = {}) {
    this.#transport = transport;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (Number.isNaN(this.#defaultTimeoutMs) || this.#defaultTimeoutMs < 0) {
      throw new InvalidArgumentError(
        `defaultTimeoutMs must be 0 (no deadline) or more, got ${this.#defaultTimeoutMs}`,
        { field: 'defaultTimeoutMs' },
      );
    }
    this.#consistency = options.consistency ?? 'minimize-latency';
    this.#retry =
      options.retries === false
        ? { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 }
        : { ...DEFAULT_RETRY_POLICY, ...options.retries };
    const batching = options.batching ?? true;
    const maxBatchSize =
      batching === false
        ? undefined
        : ((batching === true ? undefined : batching.maxBatchSize) ?? DEFAULT_MAX_BATCH_SIZE);
    this.#checks = new CheckSender(transport, this.#retry, maxBatchSize);
  }

  /**
   * The token of the newest write this client made (write, deleteRelationships, deleteObject),
   * which `'read-your-writes'` reads are sent with.
   *
   * @example
   * await client.write({ touch: ['group:g#member@user:ann'] });
   * await other.check('doc:1#view@user:ann', { consistency: { atLeastAsFresh: client.lastWriteToken! } });
   */
  get lastWriteToken(): RevisionToken | undefined {
    return this.#newestWriteToken;
  }

  /**
   * May `subject` do `permission` on `resource`? Checks made in the same event-loop turn are
   * sent as one CheckBatch unless batching is off; each still settles on its own.
   *
   * @example
   * const { allowed } = await client.check({ resource: 'contact:p1', permission: 'view', subject: 'user:mike' });
   * const r = await client.check('contact:p1#view@group:marketing#member', { timeoutMs: 50 });
   */
  async check(request: CheckRequest | string, options: ReadOptions = {}): Promise<CheckResult> {
    const wire = checkItemToWire(request);
    const consistency = this.#resolve(options.consistency);
    const call = this.#callOptions(options, deadlineFrom(options.timeoutMs, this.#defaultTimeoutMs));
    return this.#track(this.#checks.check({ wire, consistency, ...call }));
  }

  /**
   * Many checks in one request, answered at one revision, results in request order. An item
   * the server rejects carries its own `error`; the others are still answered. Not split: a
   * batch over the server's limit fails with ResourceExhaustedError.
   *
   * @example
   * const { results } = await client.checkBatch(['contact:p1#view@user:mike', 'contact:p2#view@user:mike']);
   * const visible = results.map((r) => r.allowed === true);
   */
  async checkBatch(
    items: readonly (CheckRequest | string)[],
    options: ReadOptions = {},
  ): Promise<CheckBatchResult> {
    const request = {
      consistency: consistencyToWire(this.#resolve(options.consistency)),
      items: items.map((item, i) => checkItemToWire(item, `items[${i}]`)),
    };
    const response = await this.#read('CheckBatch', request, options);
    const results = records(response.results);
    if (results.length !== items.length) {
      throw new InternalError(`server answered ${results.length} results for a batch of ${items.length}`);
    }
    return {
      results: results.map(batchResultFromWire),
      checkedAt: tokenFromWire(response.checkedAt),
    };
  }

  /**
   * The ids of objects of `resourceType` on which `subject` has `permission`, fetched page by
   * page as you iterate.
   *
   * @example
   * const ids = await client.lookupResources({ resourceType: 'contact', permission: 'view', subject: 'user:mike' }).toArray();
   * for await (const page of client.lookupResources({ ...req, pageSize: 100 }).pages()) save(page.nextCursor);
   */
  lookupResources(
    request: LookupResourcesRequest,
    options: ReadOptions = {},
  ): Paged<string, LookupResourcesPage> {
    const build = (): WireMessage => ({
      consistency: consistencyToWire(this.#resolve(options.consistency)),
      resourceObjectType: request.resourceType,
      permission: request.permission,
      subject: subjectToWire(toSubjectRef(request.subject, 'subject')),
      pageSize: request.pageSize ?? 0,
      cursor: request.cursor ?? '',
      ...requestContextToWire(request),
    });
    const pages = async function* (this: GatehouseClient): AsyncIterable<LookupResourcesPage> {
      const callOptions = this.#callOptions(options, deadlineFrom(options.timeoutMs, this.#defaultTimeoutMs));
      const stream = readStream(this.#transport, 'LookupResources', build(), callOptions, this.#retry);
      for await (const page of stream) {
        yield {
          resourceIds: strings(page.resourceObjectIds),
          conditional: records(page.conditionalResources).map(conditionalFromWire),
          nextCursor: str(page.nextCursor),
          lookedUpAt: tokenFromWire(page.lookedUpAt),
        };
      }
    };
    return new Paged(pages.bind(this), (page) => page.resourceIds);
  }

  /**
   * The subjects of `subjectType` that have `permission` on `resource`. A wildcard grant
   * (`user:*`) shows as `wildcard: true` minus `excludedSubjectIds`.
   *
   * @example
   * const { subjectIds, wildcard } = await client.lookupSubjects({ resource: 'contact:p1', permission: 'view', subjectType: 'user' });
   */
  async lookupSubjects(
    request: LookupSubjectsRequest,
    options: ReadOptions = {},
  ): Promise<LookupSubjectsResult> {
    const response = await this.#read(
      'LookupSubjects',
      {
        consistency: consistencyToWire(this.#resolve(options.consistency)),
        resource: objectToWire(toObjectRef(request.resource, 'resource')),
        permission: request.permission,
        subjectObjectType: request.subjectType,
        optionalSubjectRelation: request.subjectRelation ?? '',
        ...requestContextToWire(request),
      },
      options,
    );
    return {
      subjectIds: strings(response.subjectObjectIds),
      wildcard: response.wildcard === true,
      excludedSubjectIds: strings(response.excludedSubjectIds),
      conditional: records(response.conditionalSubjects).map(conditionalFromWire),
      lookedUpAt: tokenFromWire(response.lookedUpAt),
    };
  }

  /**
   * Why a check is allowed or denied: the evaluation tree with each node's result.
   *
   * @example
   * const { allowed, root } = await client.explain('contact:p1#view@user:mike');
   */
  async explain(request: CheckRequest | string, options: ReadOptions = {}): Promise<ExplainResult> {
    const wire = {
      consistency: consistencyToWire(this.#resolve(options.consistency)),
      ...checkItemToWire(request),
    };
    const response = await this.#read('Explain', wire, options);
    return {
      ...decisionFromWire(response.permissionship, response.missingContext),
      root:
        response.root === undefined || response.root === null
          ? undefined
          : explainNodeFromWire(response.root),
      checkedAt: tokenFromWire(response.checkedAt),
    };
  }

  /**
   * Apply relationship updates in one atomic revision, after checking the preconditions.
   * Never retried. Throws FailedPreconditionError, AlreadyExistsError (a `create` that
   * exists) or InvalidArgumentError; on any error nothing was written.
   *
   * @example
   * const { writtenAt } = await client.write({
   *   touch: ['group:marketing#member@user:mike'],
   *   preconditions: [{ operation: 'must-match', filter: { resourceType: 'group', resourceId: 'marketing' } }],
   * });
   */
  async write(request: WriteRequest, options: CallOptions = {}): Promise<WriteResult> {
    const response = await this.#mutate('WriteRelationships', writeToWire(request), options);
    return { writtenAt: this.#remember(tokenFromWire(response.writtenAt)) };
  }

  /**
   * Delete every relationship matching `filter` (its `resourceType` is required) in one revision.
   *
   * @example
   * const { deletedCount } = await client.deleteRelationships({ filter: { resourceType: 'group', resourceId: 'g', relation: 'member' } });
   */
  async deleteRelationships(
    request: DeleteRelationshipsRequest,
    options: CallOptions = {},
  ): Promise<DeleteResult> {
    const response = await this.#mutate(
      'DeleteRelationships',
      { filter: filterToWire(request.filter), preconditions: preconditionsToWire(request.preconditions) },
      options,
    );
    return {
      deletedAt: this.#remember(tokenFromWire(response.deletedAt)),
      deletedCount: count(response.deletedCount),
    };
  }

  /**
   * Delete every relationship in which `object` appears, plus the schema's declared deletion
   * consequences (returned in `consequences`), in one revision.
   *
   * @example
   * const { consequences } = await client.deleteObject('group:marketing');
   */
  async deleteObject(object: ObjectInput, options: CallOptions = {}): Promise<DeleteObjectResult> {
    const response = await this.#mutate(
      'DeleteObject',
      { object: objectToWire(toObjectRef(object, 'object')) },
      options,
    );
    return {
      deletedAt: this.#remember(tokenFromWire(response.deletedAt)),
      deletedCount: count(response.deletedCount),
      consequences: records(response.consequences).map(relationshipFromWire),
    };
  }

  /**
   * Stored relationships matching `filter`, fetched page by page as you iterate. Pages after
   * the first are read at least as fresh as the first, so a paged read never goes back in time.
   *
   * @example
   * for await (const r of client.read({ filter: { resourceType: 'group', resourceId: 'marketing' } })) console.log(r);
   */
  read(request: ReadRequest, options: ReadOptions = {}): Paged<Relationship, ReadPage> {
    const pages = async function* (this: GatehouseClient): AsyncIterable<ReadPage> {
      let cursor = request.cursor ?? '';
      let consistency = this.#resolve(options.consistency);
      do {
        const response = await this.#read(
          'ReadRelationships',
          {
            consistency: consistencyToWire(consistency),
            filter: filterToWire(request.filter),
            pageSize: request.pageSize ?? 0,
            cursor,
          },
          options,
        );
        const page: ReadPage = {
          relationships: records(response.relationships).map(relationshipFromWire),
          nextCursor: str(response.nextCursor),
          readAt: tokenFromWire(response.readAt),
        };
        if (page.readAt !== '' && consistency !== 'fully-consistent')
          consistency = { atLeastAsFresh: page.readAt };
        cursor = page.nextCursor;
        yield page;
      } while (cursor !== '');
    };
    return new Paged(pages.bind(this), (page) => page.relationships);
  }

  /**
   * Every change committed after `after` (or from now), one event per revision, until the
   * signal aborts (the loop then ends quietly). If the server goes away (shutdown, network)
   * the loop throws UnavailableError; resume with `after` set to the last `changesThrough`.
   *
   * @example
   * const stop = new AbortController();
   * for await (const event of client.watch({ signal: stop.signal })) {
   *   for (const c of event.changes) console.log(c.operation, c.relationship);
   * }
   */
  async *watch(options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    const request = options.after === undefined ? {} : { optionalStartCursor: { token: options.after } };
    const callOptions = this.#callOptions(options, undefined);
    let last = options.after;
    for await (const event of this.#transport.serverStream('Watch', request, callOptions)) {
      const changesThrough = tokenFromWire(event.changesThrough);
      if (changesThrough !== '') last = changesThrough;
      yield { changes: records(event.changes).map(changeFromWire), changesThrough };
    }
    if (options.signal?.aborted) return;
    // A watch has no natural end: the server closed it (shutdown, restart), whatever the transport says.
    throw new UnavailableError(
      `the server closed the watch stream; watch again with { after: ${last === undefined ? 'undefined' : `'${last}'`} } to resume without missing a change`,
    );
  }

  /**
   * The loaded schema (types, relations, permissions) and its hash.
   *
   * @example
   * const { schemaHash } = await client.readSchema();
   */
  async readSchema(options: CallOptions = {}): Promise<SchemaResult> {
    const response = await this.#read('ReadSchema', {}, options);
    const schemaJson = str(response.schemaJson);
    let schema: unknown;
    try {
      schema = JSON.parse(schemaJson);
    } catch (err) {
      throw new InternalError('server sent a schema that is not valid JSON', { cause: err });
    }
    return { schema, schemaJson, schemaHash: str(response.schemaHash) };
  }

  /**
   * Validate policy files without loading them: every problem with file, line and column.
   *
   * @example
   * const { valid, problems } = await client.validatePolicies([{ path: 'crm/schema.yaml', content }]);
   */
  async validatePolicies(files: readonly PolicyFile[], options: CallOptions = {}): Promise<ValidationResult> {
    const response = await this.#read(
      'ValidatePolicies',
      { files: files.map((f) => ({ path: f.path, content: f.content })) },
      options,
    );
    return { valid: response.valid === true, problems: records(response.problems).map(problemFromWire) };
  }

  /**
   * Admin: reload the server's policy directory now, as a change to its files or SIGHUP would.
   * Resolves once the new policies serve (`success`) or when they are the same (`unchanged`).
   * Rejects, while the last good policies keep serving, with InvalidArgumentError (every problem
   * as `file:line:column: message`, one per line) or FailedPreconditionError (stored
   * relationships the new schema would orphan, or a server without a policy directory). Not
   * retried: a reload is only worth repeating after the files change.
   *
   * @example
   * const { result, policyHash } = await client.reloadPolicies();
   */
  async reloadPolicies(options: CallOptions = {}): Promise<ReloadResult> {
    const response = await this.#mutate('ReloadPolicies', {}, options);
    const result = str(response.result);
    if (result !== 'success' && result !== 'unchanged') {
      throw new InternalError(`server sent an unknown reload result '${result}'`);
    }
    return { result, policyHash: str(response.policyHash), previousHash: str(response.previousHash) };
  }

  /**
   * Stop taking calls, let the ones already made finish, then release the transport's
   * connections: checks still queued for a batch are sent at once, unary calls in flight
   * settle (each within its own deadline), streams (`watch`, `lookupResources`) are cut.
   * Calls made afterwards fail with CancelledError.
   *
   * @example
   * process.once('SIGTERM', () => void client.close());
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#checks.flush();
    await Promise.allSettled([...this.#inFlight]);
    await this.#transport.close();
  }

  #track<T>(call: Promise<T>): Promise<T> {
    this.#inFlight.add(call);
    const forget = (): void => void this.#inFlight.delete(call);
    call.then(forget, forget);
    return call;
  }

  #resolve(consistency: Consistency | undefined): ResolvedConsistency {
    const c = consistency ?? this.#consistency;
    if (c !== 'read-your-writes') return c;
    return this.#newestWriteToken === undefined
      ? 'minimize-latency'
      : { atLeastAsFresh: this.#newestWriteToken };
  }

  // Tokens are opaque, so "newest" is the one received last; concurrent writers that need
  // strict ordering should pass `{ atLeastAsFresh }` explicitly.
  #remember(token: RevisionToken): RevisionToken {
    if (token !== '') this.#newestWriteToken = token;
    return token;
  }

  #callOptions(options: CallOptions | WatchOptions, deadline: number | undefined): TransportCallOptions {
    if (this.#closed) throw new CancelledError('the client was closed; create a new one to make calls');
    if (expired(deadline)) throw deadlineError(deadline as number);
    return {
      deadline,
      signal: options.signal,
      requestId: checkRequestId(options.requestId),
      traceContext: traceContextHeaders(),
    };
  }

  #read(method: UnaryMethod, request: WireMessage, options: CallOptions): Promise<WireMessage> {
    const deadline = deadlineFrom(options.timeoutMs, this.#defaultTimeoutMs);
    const callOptions = this.#callOptions(options, deadline);
    return this.#track(
      withRetries(
        this.#retry,
        () => this.#transport.unary(method, request, callOptions),
        deadline,
        options.signal,
      ),
    );
  }

  #mutate(method: UnaryMethod, request: WireMessage, options: CallOptions): Promise<WireMessage> {
    const deadline = deadlineFrom(options.timeoutMs, this.#defaultTimeoutMs);
    return this.#track(this.#transport.unary(method, request, this.#callOptions(options, deadline)));
  }
}
