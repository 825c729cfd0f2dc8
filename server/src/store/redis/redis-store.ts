// RedisStore: the Store contract on Redis (standalone, Sentinel or Cluster), shared by every
// replica that names the same store. Each mutation is one Lua script (redis-scripts.ts), so it
// is atomic and totally ordered by the revision counter; watchers follow the store's change
// feed (pub/sub) and read the changelog stream only for gaps.
// Loaded only through a dynamic import, so the embedded memory store never loads ioredis.
import { createHash, randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  GatehouseError,
  InvalidArgumentError,
  UnavailableError,
} from '../../errors.js';
import { hasAttributes, type Relationship } from '../../model/relationship.js';
import type { Logger } from '../../observability/logger.js';
import { decodeReadCursor, encodeReadCursor } from '../read-cursor.js';
import { describeFilter } from '../relationship-filter.js';
import type {
  ChangeSet,
  Precondition,
  ReadPage,
  RelationshipChange,
  RelationshipFilter,
  RelationshipUpdate,
  Revision,
  Store,
  StoreIdentity,
  StoreSnapshot,
  WriteOptions,
} from '../store.js';
import {
  checkDeleteFilter,
  checkDeleteLimit,
  checkExpectRevision,
  checkPreconditionOperations,
  checkReadLimit,
  checkUpdateOperations,
  DEFAULT_MAX_READ_LIMIT,
} from '../store-arguments.js';
import { epochChanged, type StreamEntry } from './redis-changelog.js';
import {
  askSlotMaster,
  classifyRedisError,
  clusterSlotOf,
  openRedisClient,
  type RedisClient,
  type RedisErrorKind,
  unavailable,
} from './redis-connection.js';
import {
  attributesOf,
  decodeChanges,
  filterArgs,
  isSubjectScanPosition,
  keyList,
  parseStoredRelationship,
  resourceMember,
  type StoreKeys,
  storeKeys,
  subjectBucket,
  subjectMember,
} from './redis-layout.js';
import { SCRIPTS, type ScriptName, SHARDED_FEED_SCRIPTS } from './redis-scripts.js';
import { RedisSnapshot } from './redis-snapshot.js';
import { parseRedisUrl, type RedisTarget, redactRedisUrl, type StandaloneTarget } from './redis-url.js';
import { type CommitListener, watchChangelog } from './redis-watch.js';
import { type BatchResult, WriteBatcher } from './redis-write-batch.js';

export interface RedisStoreOptions {
  /** redis://, rediss://, redis+sentinel://…/master or redis+cluster://… (see docs/redis.md). */
  readonly url: string;
  /** The store to serve; its keys live under the hash tag {gatehouse:<storeName>}. */
  readonly storeName: string;
  /**
   * After each write, WAIT until this many Redis replicas hold it. A write the replicas did
   * not acknowledge in time fails with WriteNotReplicatedError: it IS committed on the master.
   */
  readonly waitReplicas?: number | undefined;
  /** How long WAIT may take. Default 500 ms. */
  readonly waitTimeoutMs?: number | undefined;
  /** Connecting gives up after this long. Default 1000 ms. */
  readonly connectTimeoutMs?: number | undefined;
  /** A command without a reply after this long fails with UnavailableError. Default 1000 ms. */
  readonly commandTimeoutMs?: number | undefined;
  readonly logger?: Logger | undefined;
  /** Change sets the changelog keeps for watchers and snapshots. Default 10 000. */
  readonly changelogRetention?: number | undefined;
  /**
   * Bytes of change lines the changelog keeps at most, whatever the count (its oldest entries go
   * first; the newest always stays), so bulk loads cannot fill Redis with their changes. Default
   * 16 MiB; 0 bounds it by changelogRetention alone.
   */
  readonly changelogMaxBytes?: number | undefined;
  /** Relationships per snapshot chunk. Default 5 000. */
  readonly snapshotChunkSize?: number | undefined;
  /** How long a watcher waits with nothing new before it checks the epoch and revision. Default 1000 ms. */
  readonly watchBlockMs?: number | undefined;
  /** The largest page `read` serves. Default 10 000. */
  readonly maxReadLimit?: number | undefined;
  /**
   * The most by-subject buckets one `read` script call visits (a read by subject type alone
   * walks all 65,521 in calls of this many, so no single call blocks Redis for long). Default 4096.
   */
  readonly readBucketStep?: number | undefined;
}

/** A write committed on the Redis master that fewer than `waitReplicas` replicas acknowledged in time. */
export class WriteNotReplicatedError extends GatehouseError {
  override readonly name = 'WriteNotReplicatedError';
  constructor(
    readonly changeSet: ChangeSet,
    readonly acknowledged: number,
    readonly wanted: number,
  ) {
    super(
      'UNAVAILABLE',
      `the write committed at revision ${changeSet.revision} on the Redis master, but only ${acknowledged} of ${wanted} Redis replicas acknowledged it in time: it is not yet replicated and could be lost if the master fails now; do not blindly retry (re-read first)`,
    );
  }
}

/** Counters for metrics since connect: failed Redis calls by kind, and background reconnects. */
export interface RedisStoreStats {
  readonly errors: Readonly<Partial<Record<RedisErrorKind, number>>>;
  readonly reconnects: number;
}

export const DEFAULT_REDIS_CHANGELOG_RETENTION = 10_000;
export const DEFAULT_REDIS_CHANGELOG_MAX_BYTES = 16 * 1024 * 1024;
/** Index members a `read` page may scan before it returns early with a cursor. */
const READ_SCAN_BUDGET = 10_000;
/**
 * By-subject buckets one read script call visits at most: an empty bucket costs Redis about a
 * microsecond, so a call stays in milliseconds and a subject-type read of a small store takes
 * 16 calls instead of one that walks all 65,521 buckets (over a second on a loaded host).
 */
export const DEFAULT_READ_BUCKET_STEP = 4096;
/**
 * Group commit limits: writes per script call, script args per call (a write of 1,000 updates
 * is ~4,000), and calls in flight (more writes queue for the next call meanwhile).
 */
const BATCH_LIMITS = { maxWrites: 64, maxArgs: 20_000, maxInFlight: 1 } as const;
/**
 * Seeding: relationships per script call (a few tens of milliseconds of Redis time each), how
 * long the lease outlives the seeder's last step, how often a waiting replica looks again, and
 * the timeout of one step (generous: a step is small, but the host may be loaded).
 */
const SEED_CHUNK_SIZE = 1000;
const SEED_LEASE_MS = 30_000;
const SEED_WAIT_MS = 200;
const SEED_STEP_TIMEOUT_MS = 10_000;

function newEpoch(): string {
  return BigInt(`0x${randomBytes(10).toString('hex')}`)
    .toString(36)
    .slice(0, 16)
    .padStart(16, '0');
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) {
    throw new InvalidArgumentError(
      `invalid RedisStore option ${name}=${v}: it must be an integer >= ${min}`,
      {
        field: name,
      },
    );
  }
  return v;
}

interface Settings {
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** The scripts' retention argument: `<entries> <bytes>`. */
  readonly retention: string;
  readonly chunkSize: number;
  readonly watchBlockMs: number;
  readonly maxReadLimit: number;
  readonly readBucketStep: number;
}

function settingsOf(o: RedisStoreOptions): Settings {
  return {
    waitReplicas: positiveInteger('waitReplicas', o.waitReplicas, 0, 0),
    waitTimeoutMs: positiveInteger('waitTimeoutMs', o.waitTimeoutMs, 500),
    connectTimeoutMs: positiveInteger('connectTimeoutMs', o.connectTimeoutMs, 1000),
    commandTimeoutMs: positiveInteger('commandTimeoutMs', o.commandTimeoutMs, 1000),
    retention: `${positiveInteger('changelogRetention', o.changelogRetention, DEFAULT_REDIS_CHANGELOG_RETENTION)} ${positiveInteger('changelogMaxBytes', o.changelogMaxBytes, DEFAULT_REDIS_CHANGELOG_MAX_BYTES, 0)}`,
    chunkSize: positiveInteger('snapshotChunkSize', o.snapshotChunkSize, 5000),
    watchBlockMs: positiveInteger('watchBlockMs', o.watchBlockMs, 1000),
    maxReadLimit: positiveInteger('maxReadLimit', o.maxReadLimit, DEFAULT_MAX_READ_LIMIT),
    readBucketStep: positiveInteger('readBucketStep', o.readBucketStep, DEFAULT_READ_BUCKET_STEP),
  };
}

const UPDATE_CODES = { create: 'c', touch: 't', delete: 'd' } as const;

/** A mutation's changes from its reply: the text in reply[3], and reply[4] when present. */
type ChangeDecoder = (text: string, changes?: string) => RelationshipChange[];

/** A script reply: a status tag first ('ok', 'epoch', ...) then its values. */
type Reply = (string | number)[];

export class RedisStore implements Store {
  readonly kind = 'redis';
  private closed = false;
  private readonly watchers = new Set<AbortController>();
  private feedRefusedLogged = false;
  /** Connections of seeds in progress: closing the store disconnects them (see seedIfEmpty). */
  private readonly seeders = new Set<RedisClient>();
  /** The scripts this store runs: on a Cluster, the ones that send the feed by SPUBLISH. */
  private readonly scripts: ScriptSet;
  private readonly errors: Partial<Record<RedisErrorKind, number>> = {};
  /** The highest revision this instance has seen in the current epoch: a store below it lost writes. */
  private highWater = 0;
  private reconnects = 0;
  /** This instance's watchers, told of each change set it commits (see redis-watch.ts). */
  private readonly commitListeners = new Set<CommitListener>();
  private readonly batcher = new WriteBatcher<Reply>(
    (epoch, writes) => this.sendWrites(epoch, writes),
    BATCH_LIMITS,
  );

  private constructor(
    private readonly client: RedisClient,
    private readonly target: RedisTarget,
    private readonly options: RedisStoreOptions,
    private readonly settings: Settings,
    private readonly keys: StoreKeys,
    /** The epoch this store's revisions belong to: set by identity(), checked by every call. */
    private epoch: string,
  ) {
    this.scripts = target.mode === 'cluster' ? SHARDED_FEED : CLASSIC_FEED;
  }

  /** Connects, loads nothing yet (scripts load on first use) and learns or creates the store's epoch. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const settings = settingsOf(options);
    const keys = storeKeys(options.storeName);
    const target = parseRedisUrl(options.url);
    const client = await openRedisClient(target, {
      connectTimeoutMs: settings.connectTimeoutMs,
      commandTimeoutMs: settings.commandTimeoutMs,
      reconnect: true,
      connectionName: `gatehouse:${options.storeName}`,
      logger: options.logger,
      autoPipelining: true,
    });
    const store = new RedisStore(client, target, options, settings, keys, '');
    client.on('reconnecting', () => {
      store.reconnects++;
    });
    try {
      await store.identity();
    } catch (err) {
      client.disconnect();
      throw err;
    }
    options.logger?.info(
      { redis: redactRedisUrl(options.url), store: options.storeName, epoch: store.epoch },
      'connected to the Redis store',
    );
    return store;
  }

  /** The store's name and current epoch, creating the epoch if the store is new or lost its data. */
  async identity(): Promise<StoreIdentity> {
    this.assertOpen();
    const epoch = String(await this.run('gatehouseIdentity', [newEpoch()], 'reading the store identity'));
    if (this.epoch !== '' && epoch !== this.epoch) {
      this.options.logger?.warn(
        { store: this.options.storeName, previousEpoch: this.epoch, epoch },
        'the Redis store started anew (new epoch)',
      );
    }
    if (epoch !== this.epoch) this.highWater = 0;
    this.epoch = epoch;
    return { name: this.options.storeName, epoch };
  }

  async revision(): Promise<Revision> {
    this.assertOpen();
    // Only what was seen before this read is sent may be compared with its answer: a watcher on
    // another connection can see newer revisions while the reply is on its way.
    const floor = this.highWater;
    const epochAsked = this.epoch;
    const [rev, epoch] = await this.call('reading the revision', () =>
      this.client.mget(this.keys.revision, this.keys.epoch),
    );
    if (epoch !== epochAsked) throw epochChanged(this.options.storeName, epochAsked, epoch);
    const revision = Number(rev ?? 0);
    if (revision < floor) {
      const lost = await this.rolledBack(epochAsked, floor);
      if (lost !== undefined) throw lost;
    }
    if (revision > this.highWater && epochAsked === this.epoch) this.highWater = revision;
    return revision;
  }

  /**
   * The store went back below a revision it had reported in this epoch: it lost acknowledged
   * writes. Replaces the epoch (once, atomically, whichever replica notices first) so every
   * replica resyncs, and returns the error to throw.
   */
  private async rolledBack(epoch: string, seen: Revision): Promise<Error | undefined> {
    const now = String(await this.run('gatehouseRollback', [epoch, newEpoch(), seen], 'replacing the epoch'));
    // The script found the store at or past `seen` after all (it moved on meanwhile): no loss.
    if (now === epoch) return undefined;
    this.options.logger?.error(
      { store: this.options.storeName, epoch, newEpoch: now, revisionSeen: seen },
      'the Redis store went back below a revision it had reported: acknowledged writes were lost; its epoch was replaced',
    );
    return epochChanged(this.options.storeName, epoch, now);
  }

  async write(
    updates: readonly RelationshipUpdate[],
    preconditions: readonly Precondition[] = [],
    options: WriteOptions = {},
  ): Promise<ChangeSet> {
    this.assertOpen();
    checkUpdateOperations(updates);
    checkPreconditionOperations(preconditions);
    const expect = options.expectRevision;
    checkExpectRevision(expect);
    const args: (string | number)[] = [expect ?? ''];
    pushPreconditions(args, preconditions);
    pushUpdates(args, updates);
    // With attributes in use the reply carries the changes as the changelog has them (a delete
    // names the attributes it removed); else one character per update says what happened.
    const decode = (codes: string, changes?: string): RelationshipChange[] =>
      changes === undefined ? changesOfCodes(updates, codes) : decodeChanges(changes);
    const epoch = this.epoch;
    const { reply, acknowledged } = await this.batcher.submit(epoch, args);
    const changeSet = this.changeSetOf(reply, epoch, preconditions, expect, decode);
    const { waitReplicas } = this.settings;
    if (waitReplicas > 0 && (acknowledged ?? 0) < waitReplicas) {
      throw new WriteNotReplicatedError(changeSet, acknowledged ?? 0, waitReplicas);
    }
    return changeSet;
  }

  /**
   * One call of the WRITE script for a batch of writes (see redis-write-batch.ts), then (with
   * waitReplicas) WAIT on the same connection in one pipeline: WAIT covers every write before it.
   */
  private async sendWrites(
    epoch: string,
    writes: readonly (readonly (string | number)[])[],
  ): Promise<BatchResult<Reply>> {
    const args: (string | number)[] = [epoch, this.settings.retention];
    for (const w of writes) {
      args.push(w.length);
      for (const a of w) args.push(a);
    }
    const { waitReplicas } = this.settings;
    if (waitReplicas === 0) {
      const replies = (await this.run('gatehouseWrite', args, 'writing')) as Reply[];
      return { replies: answered(replies, writes.length) };
    }
    const [written, acknowledged] = await this.runThenWait('gatehouseWrite', args, 'writing');
    return { replies: answered(written as Reply[], writes.length), acknowledged };
  }

  async deleteByFilter(
    filter: RelationshipFilter,
    preconditions: readonly Precondition[] = [],
    limit?: number,
  ): Promise<ChangeSet> {
    this.assertOpen();
    checkDeleteFilter(filter);
    checkDeleteLimit(limit);
    checkPreconditionOperations(preconditions);
    const epoch = this.epoch;
    const args: (string | number)[] = [epoch, this.settings.retention, limit ?? ''];
    pushPreconditions(args, preconditions);
    args.push(...filterArgs(filter));
    const { waitReplicas } = this.settings;
    if (waitReplicas === 0) {
      const reply = (await this.run('gatehouseDeleteByFilter', args, 'deleting by filter')) as Reply;
      return this.changeSetOf(reply, epoch, preconditions, undefined);
    }
    const [reply, acknowledged] = await this.runThenWait(
      'gatehouseDeleteByFilter',
      args,
      'deleting by filter',
    );
    const changeSet = this.changeSetOf(reply as Reply, epoch, preconditions, undefined);
    if (acknowledged < waitReplicas) throw new WriteNotReplicatedError(changeSet, acknowledged, waitReplicas);
    return changeSet;
  }

  async read(
    filter: RelationshipFilter,
    page: { readonly limit: number; readonly cursor?: string | undefined },
  ): Promise<ReadPage> {
    this.assertOpen();
    checkReadLimit(page.limit, this.settings.maxReadLimit);
    const after = page.cursor === undefined ? '' : decodeReadCursor(filter, page.cursor);
    const fa = filterArgs(filter);
    if (after !== '' && fa[0] === 's' && !isSubjectScanPosition(after)) {
      throw new InvalidArgumentError(
        'invalid read cursor: it does not come from this store; start again without one',
        {
          field: 'cursor',
        },
      );
    }
    // A page is one or more bounded script calls (steps), each resuming where the last stopped.
    // A page must reflect one revision, so a step that saw another revision than the first is
    // dropped and the page ends before it, its cursor where that step began.
    const relationships: Relationship[] = [];
    let cursor = after;
    let revision = -1;
    let budget = page.limit + READ_SCAN_BUDGET;
    for (;;) {
      const reply = (await this.run(
        'gatehouseRead',
        [...fa, cursor, page.limit - relationships.length, budget, this.settings.readBucketStep],
        'reading relationships',
      )) as Reply;
      const stepRevision = Number(reply[0]);
      if (revision !== -1 && stepRevision !== revision) break;
      revision = stepRevision;
      for (let i = 3; i < reply.length; i++) relationships.push(parseStoredRelationship(String(reply[i])));
      cursor = String(reply[1]);
      budget -= Number(reply[2]);
      if (cursor === '' || relationships.length >= page.limit || budget <= 0) break;
    }
    return {
      relationships,
      nextCursor: cursor === '' ? undefined : encodeReadCursor(filter, cursor),
      revision,
    };
  }

  /** See redis-snapshot.ts: chunks exact at one revision, reconciled through the changelog. */
  async snapshot(): Promise<StoreSnapshot> {
    const revision = await this.revision();
    const { keys, epoch } = this;
    return new RedisSnapshot(
      {
        storeName: this.options.storeName,
        keys,
        epoch,
        chunkSize: this.settings.chunkSize,
        readChunk: async (after) => {
          const reply = (await this.run(
            'gatehouseChunk',
            [epoch, after, this.settings.chunkSize],
            'reading a snapshot',
          )) as unknown[];
          if (reply[0] !== 'ok') return { revision: 0, epoch: String(reply[1]), members: [] };
          return {
            revision: Number(reply[1]),
            epoch,
            members: reply[2] as string[],
            attributes: reply[3] as string[] | undefined,
          };
        },
        readChangelog: (from, to, count) =>
          this.call(
            'reading the changelog',
            () =>
              this.client.xrange(keys.changelog, `${from}-0`, `${to}-0`, 'COUNT', count) as Promise<
                StreamEntry[]
              >,
          ),
      },
      revision,
    );
  }

  watch(after: Revision, signal?: AbortSignal): AsyncIterable<ChangeSet> {
    this.assertOpen();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) controller.abort();
    const epoch = this.epoch;
    const iteration = watchChangelog({
      storeName: this.options.storeName,
      keys: this.keys,
      epoch,
      after,
      signal: controller.signal,
      open: () => this.openWatcher(),
      shardedFeed:
        this.target.mode === 'cluster' ? { openFeed: () => this.openFeedOnShardOwner() } : undefined,
      highWater: () => this.highWater,
      saw: (revision) => {
        if (revision > this.highWater && epoch === this.epoch) this.highWater = revision;
      },
      rolledBack: async (epoch, seen) =>
        (await this.rolledBack(epoch, seen)) ??
        new UnavailableError(
          `the Redis store '${this.options.storeName}' answered below revision ${seen} and then caught up: retry the watch`,
        ),
      blockMs: this.settings.watchBlockMs,
      batch: 1000,
      subscribe: (listener) => {
        this.commitListeners.add(listener);
        return () => this.commitListeners.delete(listener);
      },
      feedRefused: (err) => {
        if (this.feedRefusedLogged) return;
        this.feedRefusedLogged = true;
        this.options.logger?.warn(
          { err, store: this.options.storeName, channel: this.keys.changeFeed },
          'Redis refused the change feed subscription (grant the ACL user the channel): watchers read the changelog instead, one command per change',
        );
      },
    });
    const watchers = this.watchers;
    watchers.add(controller);
    return {
      async *[Symbol.asyncIterator](): AsyncGenerator<ChangeSet, void, undefined> {
        try {
          yield* iteration;
        } finally {
          watchers.delete(controller);
          signal?.removeEventListener('abort', onAbort);
        }
      },
    };
  }

  /**
   * Writes `relationships` as revision 1 when the store is empty (revision 0): true if this call
   * seeded it, false if it held data already (another replica seeded it; a seed under way is
   * waited for). The seed goes to Redis in chunks under a lease, so no call blocks Redis for
   * long and replicas never interleave; see SEED_BEGIN in redis-scripts.ts.
   */
  async seedIfEmpty(relationships: Iterable<Relationship>): Promise<boolean> {
    this.assertOpen();
    // Duplicates collapse, the first one's attributes kept (as one script did before).
    const lines = new Map<string, string>();
    for (const r of relationships) {
      const m = resourceMember(r);
      if (!lines.has(m)) lines.set(m, m + attributesOf(r));
    }
    const seeder = await this.openConnection(SEED_STEP_TIMEOUT_MS, false, 'seed');
    this.seeders.add(seeder);
    const id = newEpoch();
    const step = async (name: ScriptName, extra: (string | number)[]): Promise<Reply> => {
      const args =
        name === 'gatehouseSeedFinish'
          ? [this.epoch, id, this.settings.retention]
          : [this.epoch, id, SEED_LEASE_MS, ...extra];
      const reply = (await this.call('seeding', () =>
        invoke(seeder, this.scripts, name, this.keys, args),
      )) as Reply;
      if (reply[0] === 'epoch') throw epochChanged(this.options.storeName, this.epoch, String(reply[1]));
      return reply;
    };
    try {
      this.assertOpen(); // closed while the connection opened
      let begun = await step('gatehouseSeedBegin', []);
      // Another replica is seeding: wait for it to finish, or for its lease to lapse (it died).
      // A store closed meanwhile (a replica shut down while it waited) stops here, not when
      // the other's lease ends: that can be longer than a pod's grace period.
      while (begun[0] === 'held') {
        await new Promise((resolve) => setTimeout(resolve, SEED_WAIT_MS));
        this.assertOpen();
        begun = await step('gatehouseSeedBegin', []);
      }
      if (begun[0] !== 'ok') return false;
      // Data at revision 0 is a seed that died half-way: remove it first (its file may differ).
      let left = Number(begun[1]);
      while (left > 0) {
        const reply = await step('gatehouseSeedClear', [SEED_CHUNK_SIZE]);
        if (reply[0] !== 'ok') return this.seedLost(reply);
        left = Number(reply[1]);
      }
      const all = [...lines.values()];
      for (let i = 0; i < all.length; i += SEED_CHUNK_SIZE) {
        const reply = await step('gatehouseSeedChunk', [all.slice(i, i + SEED_CHUNK_SIZE).join('\n')]);
        if (reply[0] !== 'ok') return this.seedLost(reply);
      }
      const done = await step('gatehouseSeedFinish', []);
      if (done[0] !== 'ok') return this.seedLost(done);
      const revision = Number(done[1]);
      if (revision > this.highWater) this.highWater = revision;
      return true;
    } finally {
      this.seeders.delete(seeder);
      seeder.disconnect();
    }
  }

  /** A seed step found the store seeded meanwhile (false) or its lease taken over (an error). */
  private seedLost(reply: Reply): false {
    if (reply[0] === 'seeded') return false;
    throw new UnavailableError(
      `seeding Redis store '${this.options.storeName}' stopped: another replica took over its lease (this one was too slow); restart to retry`,
    );
  }

  /** Failed calls by kind and reconnects since connect: for the service's metrics. */
  stats(): RedisStoreStats {
    return { errors: { ...this.errors }, reconnects: this.reconnects };
  }

  /** Change sets the changelog holds now (XLEN): for the changelog-length metric. */
  async changelogLength(): Promise<number> {
    this.assertOpen();
    return this.call('reading the changelog length', () => this.client.xlen(this.keys.changelog));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers) w.abort();
    this.watchers.clear();
    // A seed under way fails its next step with UnavailableError (its writes are chunks under a
    // lease: another replica completes or restarts the seed).
    for (const seeder of this.seeders) seeder.disconnect();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private assertOpen(): void {
    if (this.closed)
      throw new UnavailableError('the Redis store is closed: it was shut down and accepts no more calls');
  }

  private openWatcher(): Promise<RedisClient> {
    return this.openConnection(this.settings.watchBlockMs + this.settings.commandTimeoutMs, false, 'watch');
  }

  /**
   * On a Cluster, the connection a watcher follows the sharded change feed on: to the master that
   * owns the store's slot, as the Cluster says when the watch starts. Should the slot move while
   * it watches, Redis ends the subscription and the watch ends UNAVAILABLE (redis-watch.ts); the
   * replica's next watch subscribes on the new master.
   */
  private async openFeedOnShardOwner(): Promise<RedisClient> {
    const cluster = this.client as Cluster;
    const slot = await this.call('finding the change feed shard', () =>
      clusterSlotOf(cluster, this.keys.changeFeed),
    );
    const master = await this.call('finding the change feed shard', () => askSlotMaster(cluster, slot));
    if (master === undefined) {
      throw new UnavailableError(
        `no Redis Cluster master is known for slot ${slot} of store '${this.options.storeName}' yet: retry the watch`,
      );
    }
    const shard: StandaloneTarget = {
      mode: 'standalone',
      address: master,
      db: 0,
      username: this.target.username,
      password: this.target.password,
      tls: this.target.tls,
    };
    return this.openConnection(
      this.settings.watchBlockMs + this.settings.commandTimeoutMs,
      false,
      'feed',
      shard,
    );
  }

  private openConnection(
    commandTimeoutMs: number,
    reconnect: boolean,
    role: string,
    target: RedisTarget = this.target,
  ): Promise<RedisClient> {
    return openRedisClient(target, {
      connectTimeoutMs: this.settings.connectTimeoutMs,
      commandTimeoutMs,
      reconnect,
      connectionName: `gatehouse:${this.options.storeName}:${role}`,
      logger: this.options.logger,
    });
  }

  private async call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const kind = classifyRedisError(err);
      this.errors[kind] = (this.errors[kind] ?? 0) + 1;
      const failure = unavailable(err, doing);
      this.options.logger?.warn(
        { err, store: this.options.storeName },
        `Redis store call failed while ${doing}`,
      );
      throw failure;
    }
  }

  private run(name: ScriptName, args: readonly (string | number)[], doing: string): Promise<unknown> {
    return this.call(doing, () => invoke(this.client, this.scripts, name, this.keys, args));
  }

  /**
   * Runs a mutating script, then WAIT for `waitReplicas` Redis replicas on the same connection,
   * in one pipeline: the script's reply, and how many replicas acknowledged (0 if WAIT failed).
   */
  private async runThenWait(
    name: ScriptName,
    args: readonly (string | number)[],
    doing: string,
  ): Promise<[unknown, number]> {
    const { waitReplicas, waitTimeoutMs, commandTimeoutMs } = this.settings;
    // WAIT must leave room inside the command timeout, or the write would look unavailable.
    const waitMs = Math.max(1, Math.min(waitTimeoutMs, commandTimeoutMs - 100));
    const send = (withSource: boolean): Promise<[Error | null, unknown][]> =>
      this.call(doing, async () => {
        const pipeline = this.client.pipeline();
        const [command, first] = withSource
          ? (['eval', this.scripts.scripts[name].lua] as const)
          : (['evalsha', this.scripts.shas[name]] as const);
        pipeline[command](first, this.scripts.scripts[name].numberOfKeys, ...keyList(this.keys), ...args);
        pipeline.wait(waitReplicas, waitMs);
        return ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
      });
    let results = await send(false);
    if (isNoScript(results[0]?.[0])) results = await send(true);
    const [written, waited] = results;
    if (written === undefined || written[0] !== null) throw unavailable(written?.[0], doing);
    return [written[1], waited !== undefined && waited[0] === null ? Number(waited[1]) : 0];
  }

  /** Turns a mutation reply into its ChangeSet, or throws the typed error it reports. */
  private changeSetOf(
    reply: Reply,
    epoch: string,
    preconditions: readonly Precondition[],
    expect: Revision | undefined,
    decode: ChangeDecoder = decodeChanges,
  ): ChangeSet {
    const [status] = reply;
    if (status === 'ok') {
      const changes = decode(String(reply[3] ?? ''), reply[4] === undefined ? undefined : String(reply[4]));
      const revision = Number(reply[1]);
      if (revision > this.highWater && epoch === this.epoch) this.highWater = revision;
      const changeSet: ChangeSet = { revision, changes, committedAt: Number(reply[2]) };
      // This instance's watchers deliver it now instead of after their next changelog read.
      for (const listener of this.commitListeners) listener(epoch, changeSet);
      return changeSet;
    }
    if (status === 'epoch') throw epochChanged(this.options.storeName, epoch, String(reply[1]));
    if (status === 'seeding') {
      throw new UnavailableError(
        `Redis store '${this.options.storeName}' is being seeded from the policy files' relationships (or a replica died seeding it: a restarted replica completes it); retry shortly`,
      );
    }
    if (status === 'revision') {
      throw new FailedPreconditionError(
        `the store moved on: it is at revision ${reply[1]}, not the expected revision ${expect}; re-read the current state and retry`,
        { field: 'expectRevision' },
      );
    }
    if (status === 'exists') {
      throw new AlreadyExistsError(
        `relationship '${reply[2]}' already exists: use operation 'touch' to write it whether or not it exists`,
        { field: `updates[${Number(reply[1]) - 1}]` },
      );
    }
    if (status === 'precondition') {
      const i = Number(reply[1]) - 1;
      const filter = describeFilter((preconditions[i] as Precondition).filter);
      throw new FailedPreconditionError(
        reply[2] === 'm'
          ? `precondition must_match failed: no relationship matches filter ${filter}; re-read the current state and retry`
          : `precondition must_not_match failed: relationship '${reply[3]}' matches filter ${filter}; re-read the current state and retry`,
        { field: `preconditions[${i}]` },
      );
    }
    if (status === 'error') {
      throw new UnavailableError(
        `the Redis write script failed on this write (outcome unknown: re-read before retrying): ${String(reply[1])}`,
      );
    }
    throw new UnavailableError(`the Redis store returned an unexpected reply '${String(status)}'`);
  }
}

/** A batch reply must answer every write it carried. */
function answered(replies: unknown, writes: number): Reply[] {
  if (!Array.isArray(replies) || replies.length !== writes) {
    throw new UnavailableError(
      `the Redis write script answered ${Array.isArray(replies) ? replies.length : 'nothing'} for ${writes} writes`,
    );
  }
  return replies as Reply[];
}

/**
 * The changes of a write from WRITE's reply when no relationship involved has attributes: a
 * character per update, '+' (inserted), '-' (deleted) or '.' (no change). Built from the
 * caller's updates, so nothing is parsed back.
 */
function changesOfCodes(updates: readonly RelationshipUpdate[], codes: string): RelationshipChange[] {
  const changes: RelationshipChange[] = [];
  for (let u = 0; u < codes.length; u++) {
    const code = codes.charCodeAt(u);
    if (code === 46 /* . */) continue;
    const r = (updates[u] as RelationshipUpdate).relationship;
    const s = r.subject;
    changes.push({
      operation: code === 43 /* + */ ? 'insert' : 'delete',
      relationship: {
        resource: { type: r.resource.type, id: r.resource.id },
        relation: r.relation,
        subject:
          s.relation === undefined
            ? { type: s.type, id: s.id }
            : { type: s.type, id: s.id, relation: s.relation },
      },
    });
  }
  return changes;
}

/** The updates as WRITE takes them: their ops in one string, then both index members and the subject bucket of each. */
function pushUpdates(args: (string | number)[], updates: readonly RelationshipUpdate[]): void {
  let ops = '';
  const resources: string[] = new Array(updates.length);
  const subjects: string[] = new Array(updates.length);
  const buckets: number[] = new Array(updates.length);
  let withAttributes = false;
  for (let u = 0; u < updates.length; u++) {
    const { operation, relationship } = updates[u] as RelationshipUpdate;
    ops += UPDATE_CODES[operation];
    resources[u] = resourceMember(relationship);
    subjects[u] = subjectMember(relationship);
    buckets[u] = subjectBucket(relationship);
    if (operation !== 'delete' && hasAttributes(relationship)) withAttributes = true;
  }
  args.push(ops);
  for (const m of resources) args.push(m);
  for (const m of subjects) args.push(m);
  for (const b of buckets) args.push(b);
  if (!withAttributes) {
    args.push('');
    return;
  }
  args.push('a');
  for (const u of updates) args.push(u.operation === 'delete' ? '' : attributesOf(u.relationship));
}

function pushPreconditions(args: (string | number)[], preconditions: readonly Precondition[]): void {
  args.push(preconditions.length);
  for (const p of preconditions) args.push(p.operation === 'must_match' ? 'm' : 'n', ...filterArgs(p.filter));
}

/** A set of the store's scripts and their SHA-1s (what EVALSHA names them by). */
interface ScriptSet {
  readonly scripts: typeof SCRIPTS;
  readonly shas: Readonly<Record<ScriptName, string>>;
}

function scriptSet(scripts: typeof SCRIPTS): ScriptSet {
  const shas = Object.fromEntries(
    Object.entries(scripts).map(([name, script]) => [
      name,
      createHash('sha1').update(script.lua).digest('hex'),
    ]),
  ) as Record<ScriptName, string>;
  return { scripts, shas };
}

const CLASSIC_FEED = scriptSet(SCRIPTS);
const SHARDED_FEED = scriptSet(SHARDED_FEED_SCRIPTS);

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * Calls a script by EVALSHA, sending its source (EVAL) only when this Redis does not have it
 * yet (NOSCRIPT). Not ioredis's defineCommand: with auto-pipelining it sends the whole source
 * (EVAL, ~20 KB) on every call, which Redis then hashes again, every write.
 */
async function invoke(
  client: RedisClient,
  set: ScriptSet,
  name: ScriptName,
  keys: StoreKeys,
  args: readonly (string | number)[],
): Promise<unknown> {
  const script = set.scripts[name];
  const keyArgs = keyList(keys);
  try {
    return await client.evalsha(set.shas[name], script.numberOfKeys, ...keyArgs, ...args);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return client.eval(script.lua, script.numberOfKeys, ...keyArgs, ...args);
  }
}
