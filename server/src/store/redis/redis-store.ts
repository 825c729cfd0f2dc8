// RedisStore: the Store contract on Redis (standalone, Sentinel or Cluster), shared by every
// replica that names the same store. Redis holds the store's revision, its changelog, a version
// per object and relationship images; each replica holds the relationship set itself, in a
// mirror (redis-mirror.ts) that follows the changelog. A write is planned on the mirror and
// committed by one Lua script that checks nothing the plan read has changed since (redis-
// scripts.ts), so writes stay atomic and totally ordered by the revision counter; reads are
// served from the mirror once it holds the revision Redis reports. Watchers follow the store's
// change feed (pub/sub) and read the changelog stream only for gaps.
// docs/design/redis-changelog-store.md says why; docs/redis.md what each key holds.
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
import type { Relationship } from '../../model/relationship.js';
import type { Logger } from '../../observability/logger.js';
import { MemoryStore } from '../memory-store.js';
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
import {
  fieldsChanged,
  fieldsRead,
  objectFieldsChanged,
  updateFields,
  type WritePlan,
} from '../write-versions.js';
import { GraphSnapshotCache, SnapshotSchedule } from './graph-snapshot-cache.js';
import { bulkEndpoint } from './open-graph-source.js';
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
import { encodeChanges, keyList, type StoreKeys, SUBJECT_BUCKETS, storeKeys } from './redis-layout.js';
import { RedisMirror } from './redis-mirror.js';
import { SCRIPTS, type ScriptName, SHARDED_FEED_SCRIPTS } from './redis-scripts.js';
import { RedisSnapshot } from './redis-snapshot.js';
import { parseRedisUrl, type RedisTarget, redactRedisUrl, type StandaloneTarget } from './redis-url.js';
import { type CommitListener, watchChangelog } from './redis-watch.js';
import { type BatchResult, WriteBatcher } from './redis-write-batch.js';
import { decodeImage, encodeImage, IMAGE_NAMESPACE, IMAGE_SCHEMA_HASH } from './relationship-image.js';
import { WritesOnTheWay } from './writes-on-the-way.js';

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
  /** Relationships per snapshot chunk (and per part of a relationship image). Default 5 000. */
  readonly snapshotChunkSize?: number | undefined;
  /** How long a watcher waits with nothing new before it checks the epoch and revision. Default 1000 ms. */
  readonly watchBlockMs?: number | undefined;
  /**
   * How long this instance's watchers (its mirror's among them) wait for the reply of one of its
   * own commits whose feed message came first, before decoding the message instead; the reply
   * brings the change set decoded already. Default 250 ms.
   */
  readonly ownReplyWaitMs?: number | undefined;
  /** The largest page `read` serves. Default 10 000. */
  readonly maxReadLimit?: number | undefined;
  /**
   * Publish a relationship image after this many revisions (or imageEveryMs with at least one),
   * whichever first; one replica at a time. The changelog is never trimmed past the oldest image
   * kept, so this bounds it too. Default 50 000.
   */
  readonly imageEveryChanges?: number | undefined;
  /** See imageEveryChanges. Default 10 minutes. */
  readonly imageEveryMs?: number | undefined;
  /**
   * How long a call waits for this replica's mirror to reach the revision it needs (it is
   * loading, on first use, or catching up) before it fails with UnavailableError. Default 30 000
   * ms: the first write through a replica of a large store waits for the mirror to load (about a
   * second per million relationships).
   */
  readonly mirrorWaitMs?: number | undefined;
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
export const DEFAULT_IMAGE_EVERY_CHANGES = 50_000;
export const DEFAULT_IMAGE_EVERY_MS = 10 * 60_000;
/**
 * Group commit limits: writes per script call; characters of args per call (a write of 1,000
 * updates is ~60,000, and goes alone); and calls in flight: two, so the next call is on its way
 * while Redis runs one (more writes queue for the next call meanwhile).
 */
const BATCH_LIMITS = { maxWrites: 64, maxChars: 32_768, maxInFlight: 2 } as const;
/**
 * A write replanned this many times, each because another write changed what it read, gives up
 * (UNAVAILABLE): only a hot spot written without pause gets there.
 */
const MAX_COMMIT_ATTEMPTS = 50;
/** Buckets of a legacy store's by-subject index unlinked per script call while converting it. */
const LEGACY_DROP_STEP = 4096;
/** Seeding: how long the lease outlives the seeder's last renewal, and how often a waiting replica looks again. */
const SEED_LEASE_MS = 30_000;
const SEED_WAIT_MS = 200;

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
  readonly ownReplyWaitMs: number;
  readonly maxReadLimit: number;
  readonly imageEveryChanges: number;
  readonly imageEveryMs: number;
  readonly mirrorWaitMs: number;
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
    ownReplyWaitMs: positiveInteger('ownReplyWaitMs', o.ownReplyWaitMs, 250),
    maxReadLimit: positiveInteger('maxReadLimit', o.maxReadLimit, DEFAULT_MAX_READ_LIMIT),
    imageEveryChanges: positiveInteger('imageEveryChanges', o.imageEveryChanges, DEFAULT_IMAGE_EVERY_CHANGES),
    imageEveryMs: positiveInteger('imageEveryMs', o.imageEveryMs, DEFAULT_IMAGE_EVERY_MS),
    mirrorWaitMs: positiveInteger('mirrorWaitMs', o.mirrorWaitMs, 30_000),
  };
}

/** A script reply: a status tag first ('ok', 'epoch', ...) then its values. */
type Reply = (string | number)[];

export class RedisStore implements Store {
  readonly kind = 'redis';
  private closed = false;
  private readonly watchers = new Set<AbortController>();
  private feedRefusedLogged = false;
  /** The scripts this store runs: on a Cluster, the ones that send the feed by SPUBLISH. */
  private readonly scripts: ScriptSet;
  private readonly errors: Partial<Record<RedisErrorKind, number>> = {};
  /** The highest revision this instance has seen in the current epoch: a store below it lost writes. */
  private highWater = 0;
  private reconnects = 0;
  /** This instance's watchers, told of each change set it commits (see redis-watch.ts). */
  private readonly commitListeners = new Set<CommitListener>();
  /**
   * Names this instance in the feed message of each change set it commits, so its watchers wait
   * for the commit's reply instead of decoding the message (which often comes first).
   */
  private readonly writerId = randomBytes(6).toString('hex');
  private readonly batcher = new WriteBatcher<Reply>(
    (epoch, writes) => this.sendWrites(epoch, writes),
    BATCH_LIMITS,
  );
  /** This replica's copy of the relationship set: writes plan on it, reads are served from it. */
  private readonly mirror: RedisMirror;
  /** When this replica next offers an image (see publishImage). */
  private imageSchedule: SnapshotSchedule | undefined;
  private imagePublishing = false;
  private imageTimer: NodeJS.Timeout | undefined;
  /** The change sets this instance committed, with the copy each was planned on. */
  private readonly ownCommits = new WeakMap<ChangeSet, MemoryStore>();
  /** This instance's writes on their way (committing, or not yet in the mirror). */
  private readonly writesOnTheWay = new WritesOnTheWay();

  private constructor(
    private readonly client: RedisClient,
    private readonly target: RedisTarget,
    private readonly options: RedisStoreOptions,
    private readonly settings: Settings,
    private readonly keys: StoreKeys,
    /** Relationship images, on a connection of their own (their chunks are large). */
    private readonly images: GraphSnapshotCache,
    private readonly imageClient: RedisClient,
    /** The epoch this store's revisions belong to: set by identity(), checked by every call. */
    private epoch: string,
  ) {
    this.scripts = target.mode === 'cluster' ? SHARDED_FEED : CLASSIC_FEED;
    this.mirror = new RedisMirror({
      storeName: options.storeName,
      logger: options.logger,
      epoch: () => this.epoch,
      load: (epoch) => this.loadCopy(epoch),
      follow: (epoch, after, signal) => this.changelog(epoch, after, signal),
      applied: (copy, epoch) => this.offerImage(copy, epoch),
      // Redis committed it only because nothing its plan read changed since the plan: on the copy
      // it was planned on (the same history), it applies as planned, whatever came between.
      plannedOn: (changeSet, copy) => this.ownCommits.get(changeSet) === copy,
    });
  }

  /**
   * Connects and learns or creates the store's epoch. The mirror is built on first use (a write,
   * a read of relationships, a snapshot), which waits for it up to mirrorWaitMs: a replica that
   * only answers checks from a compiled graph never holds a second copy of the relationships.
   */
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
    let imageClient: RedisClient | undefined;
    try {
      imageClient = await openRedisClient(target, {
        connectTimeoutMs: settings.connectTimeoutMs,
        // An image part is up to 256 KiB: allow a slow link more than one command's bound.
        commandTimeoutMs: 10_000,
        reconnect: true,
        connectionName: `gatehouse:${options.storeName}:image`,
        logger: options.logger,
      });
      const tag = `{gatehouse:${options.storeName}}`;
      const slot =
        target.mode === 'cluster'
          ? await clusterSlotOf(imageClient as Cluster, tag).catch(() => undefined)
          : undefined;
      const images = new GraphSnapshotCache({
        redis: imageClient,
        keyPrefix: tag,
        namespace: IMAGE_NAMESPACE,
        logger: options.logger,
        bulkEndpoint: () => bulkEndpoint(target, imageClient as RedisClient, slot),
      });
      const store = new RedisStore(client, target, options, settings, keys, images, imageClient, '');
      client.on('reconnecting', () => {
        store.reconnects++;
      });
      await store.identity();
      store.imageTimer = setInterval(
        () => store.offerCurrentImage(),
        Math.min(settings.imageEveryMs, 60_000),
      );
      store.imageTimer.unref();
      options.logger?.info(
        { redis: redactRedisUrl(options.url), store: options.storeName, epoch: store.epoch },
        'connected to the Redis store',
      );
      return store;
    } catch (err) {
      client.disconnect();
      imageClient?.disconnect();
      throw err;
    }
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
    const moved = this.epoch !== '' && epoch !== this.epoch;
    if (epoch !== this.epoch) this.highWater = 0;
    this.epoch = epoch;
    if (moved) this.mirror.epochChanged();
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
    const own = updateFields(updates);
    return this.commitPlanned(
      // Distinct fields, distinct relationships: the plan need not look for repeats.
      (copy) => copy.planWrite(updates, preconditions, options, own.size === updates.length),
      fieldsRead(updates, preconditions, undefined, own),
      own,
      expect,
    );
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
    return this.commitPlanned(
      (copy) => copy.planDeleteByFilter(filter, preconditions, limit),
      fieldsRead([], preconditions, filter),
      NO_FIELDS,
      undefined,
    );
  }

  /**
   * Plans a mutation on the mirror at its revision R and commits it in Redis unless something the
   * plan read changed after R; then replans on a mirror that has caught up, until it commits. A
   * plan that fails (a precondition, a `create` of a present relationship) is reported only from
   * a mirror at least as fresh as a revision read from Redis after the call began, so a refusal,
   * like a commit, is the store's answer at one revision during the call. `reads`: the fields the
   * plan will read (fieldsRead of the same arguments), known before it is made; `own`: the first
   * of them, the relationship fields of the updates the plan's changes come from, which the
   * commit stamps too (none for a delete by filter, whose changes are found by the plan).
   */
  private async commitPlanned(
    plan: (copy: MemoryStore) => WritePlan,
    reads: readonly string[],
    own: ReadonlySet<string>,
    expect: Revision | undefined,
  ): Promise<ChangeSet> {
    const epoch = this.epoch;
    const { mirrorWaitMs } = this.settings;
    this.mirror.start();
    let copy = await this.mirror.waitFor(epoch, expect ?? 0, mirrorWaitMs);
    let confirmedAt: Revision | undefined;
    for (let attempt = 1; ; attempt++) {
      // A write of this instance still on its way changes what this one reads: planned now, it
      // would only be refused at commit. Plan once that write is in the mirror.
      if (await this.writesOnTheWay.landedBefore(reads, own.size)) copy = this.mirror.current?.copy ?? copy;
      let planned: WritePlan;
      try {
        planned = plan(copy);
      } catch (err) {
        const refusal = err instanceof FailedPreconditionError || err instanceof AlreadyExistsError;
        if (!refusal) throw err;
        confirmedAt ??= await this.revision();
        if (copy.latestRevision >= confirmedAt) throw err;
        copy = await this.mirror.waitFor(epoch, confirmedAt, mirrorWaitMs);
        continue;
      }
      // A write's changes are its updates' relationships: their fields lead `reads` already, and
      // COMMIT stamps them from there (sent once, hashed once).
      const stamps = own.size > 0 ? objectFieldsChanged(planned.changes) : fieldsChanged(planned.changes);
      const landed = this.writesOnTheWay.add(own, stamps);
      let committed: Revision | undefined;
      try {
        const { reply, acknowledged } = await this.batcher.submit(
          epoch,
          commitArgs(planned.revision, reads, own.size, stamps, planned.changes, expect),
        );
        const [status] = reply;
        if (status === 'conflict') {
          if (attempt >= MAX_COMMIT_ATTEMPTS) {
            throw new UnavailableError(
              `the write was replanned ${attempt} times because other writes kept changing what it depends on; retry later`,
            );
          }
          copy = await this.mirror.waitFor(epoch, Number(reply[1]), mirrorWaitMs);
          continue;
        }
        const changeSet = this.changeSetOf(reply, epoch, planned, expect, copy);
        committed = changeSet.revision;
        const { waitReplicas } = this.settings;
        if (waitReplicas > 0 && (acknowledged ?? 0) < waitReplicas) {
          throw new WriteNotReplicatedError(changeSet, acknowledged ?? 0, waitReplicas);
        }
        return changeSet;
      } finally {
        // Off the way once the mirror holds it (or it did not commit).
        if (committed === undefined) landed();
        else void this.mirror.waitFor(epoch, committed, mirrorWaitMs).then(landed, landed);
      }
    }
  }

  /**
   * One call of the COMMIT script for a batch of writes (see redis-write-batch.ts), then (with
   * waitReplicas) WAIT on the same connection in one pipeline: WAIT covers every write before it.
   */
  private async sendWrites(
    epoch: string,
    writes: readonly (readonly (string | number)[])[],
  ): Promise<BatchResult<Reply>> {
    const args: (string | number)[] = [epoch, this.settings.retention, this.writerId];
    for (const w of writes) {
      args.push(w.length);
      for (const a of w) args.push(a);
    }
    const { waitReplicas } = this.settings;
    if (waitReplicas === 0) {
      const replies = (await this.run('gatehouseCommit', args, 'writing')) as Reply[];
      return { replies: answered(replies, writes.length) };
    }
    const [written, acknowledged] = await this.runThenWait('gatehouseCommit', args, 'writing');
    return { replies: answered(written as Reply[], writes.length), acknowledged };
  }

  /** A page of relationships from the mirror, once it holds the revision Redis reports now. */
  async read(
    filter: RelationshipFilter,
    page: { readonly limit: number; readonly cursor?: string | undefined },
  ): Promise<ReadPage> {
    this.assertOpen();
    checkReadLimit(page.limit, this.settings.maxReadLimit);
    const epoch = this.epoch;
    this.mirror.start();
    const head = await this.revision();
    const copy = await this.mirror.waitFor(epoch, head, this.settings.mirrorWaitMs);
    return copy.read(filter, page);
  }

  /**
   * The mirror's set once it holds the revision Redis reports now: a memory store snapshot, so
   * changes the mirror applies while it is read do not show through (the mirror's copy turns the
   * unread rows into objects first, as an embedded store's snapshot does).
   */
  async snapshot(): Promise<StoreSnapshot> {
    const epoch = this.epoch;
    this.mirror.start();
    const head = await this.revision();
    const copy = await this.mirror.waitFor(epoch, head, this.settings.mirrorWaitMs);
    return copy.snapshot();
  }

  watch(after: Revision, signal?: AbortSignal): AsyncIterable<ChangeSet> {
    this.assertOpen();
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) controller.abort();
    const iteration = this.changelog(this.epoch, after, controller.signal);
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

  /** The changelog after `after` in `epoch`, then the feed: what watchers and the mirror follow. */
  private changelog(epoch: string, after: Revision, signal: AbortSignal): AsyncIterable<ChangeSet> {
    return watchChangelog({
      storeName: this.options.storeName,
      keys: this.keys,
      epoch,
      after,
      signal,
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
      writer: this.writerId,
      ownReplyWaitMs: this.settings.ownReplyWaitMs,
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
  }

  /** A MemoryStore for this replica's copy, with the store's identity and no changelog of its own. */
  private copyOptions(epoch: string): ConstructorParameters<typeof MemoryStore>[0] {
    return {
      storeName: this.options.storeName,
      epoch,
      changelogRetention: 0,
      maxReadLimit: this.settings.maxReadLimit,
      snapshotChunkSize: this.settings.chunkSize,
    };
  }

  /**
   * What the mirror starts from in `epoch`: the newest relationship image at or below the
   * revision now, which the changelog continues; an empty copy at 0 when the store is empty or
   * has no image yet (its changelog is then whole); or, for a store an older build wrote, its
   * indexes, converted once.
   */
  private async loadCopy(epoch: string): Promise<MemoryStore> {
    const head = await this.revision();
    if (this.epoch !== epoch) throw epochChanged(this.options.storeName, epoch, this.epoch);
    const options = this.copyOptions(epoch);
    if (head > 0) {
      for (;;) {
        const image = await this.call('loading a relationship image', () =>
          this.images.loadNewest(IMAGE_SCHEMA_HASH, epoch, head),
        );
        if (image.status === 'corrupt') continue; // removed; the next older one is tried
        if (image.status === 'miss') break;
        const copy = await MemoryStore.atRevision(decodeImage(image.chunks), image.key.revision, options);
        this.imageSchedule = this.newImageSchedule(image.key.revision);
        this.options.logger?.info(
          { store: this.options.storeName, revision: image.key.revision, relationships: copy.size },
          "loaded this replica's copy of the Redis store from its image",
        );
        void this.dropLegacy(epoch);
        return copy;
      }
      const legacy = await this.call('looking for a store an older build wrote', () =>
        this.imageClient.exists(this.keys.byResource),
      );
      if (legacy === 1) return this.convertLegacy(epoch, head);
    }
    this.imageSchedule = this.newImageSchedule(0);
    return new MemoryStore(options);
  }

  private newImageSchedule(revision: Revision): SnapshotSchedule {
    return new SnapshotSchedule({
      everyChanges: this.settings.imageEveryChanges,
      everyMs: this.settings.imageEveryMs,
      revision,
      now: Date.now(),
    });
  }

  /**
   * Told after the mirror applied a change set: when an image is due, offers one of the copy at
   * its revision (the lease picks one replica; the others carry on). The mirror goes on applying
   * changes while the image is read: the copy's snapshot keeps the rows they remove (one object
   * each), so writes and reads through this replica do not wait for the publish.
   */
  private offerImage(copy: MemoryStore, epoch: string): void {
    const schedule = this.imageSchedule;
    const revision = copy.latestRevision;
    if (schedule === undefined || this.imagePublishing || !schedule.due(revision, Date.now())) return;
    this.imagePublishing = true;
    void this.publishImage(copy, epoch)
      .catch((err: unknown) =>
        this.options.logger?.warn(
          { err, store: this.options.storeName, revision },
          'publishing an image failed',
        ),
      )
      .finally(() => {
        schedule.published(revision, Date.now());
        this.imagePublishing = false;
        // Changes applied while it was written may have made the next one due already.
        this.offerCurrentImage();
      });
  }

  /** offerImage for the mirror's copy now: after a publish, and on a timer (a quiet store's last changes). */
  private offerCurrentImage(): void {
    const current = this.mirror.current;
    if (!this.closed && current !== undefined) this.offerImage(current.copy, current.epoch);
  }

  private async publishImage(copy: MemoryStore, epoch: string): Promise<string> {
    const snapshot = await copy.snapshot();
    try {
      return await this.call('publishing a relationship image', () =>
        this.images.publish(
          { schemaHash: IMAGE_SCHEMA_HASH, epoch, revision: snapshot.revision },
          encodeImage(snapshot),
        ),
      );
    } finally {
      // Read through, or never read (another replica holds the lease): either way, done with.
      snapshot.release();
    }
  }

  /**
   * A store an older build wrote holds its relationships in two indexes and no image: read them
   * at `revision` (exact, reconciled through the changelog), publish that as the first image,
   * then drop the indexes. Replicas of the older build must be stopped first (docs/redis.md).
   */
  private async convertLegacy(epoch: string, revision: Revision): Promise<MemoryStore> {
    const { keys } = this;
    const chunkSize = this.settings.chunkSize;
    const snapshot = new RedisSnapshot(
      {
        storeName: this.options.storeName,
        keys,
        epoch,
        chunkSize,
        readChunk: async (after) => {
          const reply = (await this.run(
            'gatehouseLegacyChunk',
            [epoch, after, chunkSize],
            'reading a store an older build wrote',
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
    const copy = await MemoryStore.atRevision(snapshot.chunks(), revision, this.copyOptions(epoch));
    const published = await this.publishImage(copy, epoch);
    this.options.logger?.warn(
      { store: this.options.storeName, revision, relationships: copy.size, image: published },
      'converted a Redis store an older build wrote: its relationships are now an image; dropping its indexes',
    );
    this.imageSchedule = this.newImageSchedule(revision);
    if (published !== 'lease-held') await this.dropLegacy(epoch);
    return copy;
  }

  /** Unlinks a converted store's old indexes, a few thousand keys per call; idempotent. */
  private async dropLegacy(epoch: string): Promise<void> {
    try {
      const present = await this.imageClient.exists(this.keys.byResource, this.keys.attributes);
      if (present === 0 && (await this.imageClient.exists(`${this.keys.bySubjectPrefix}0`)) === 0) return;
      for (let next = 0; next < SUBJECT_BUCKETS; ) {
        const reply = (await this.run(
          'gatehouseLegacyDrop',
          [epoch, next, LEGACY_DROP_STEP, SUBJECT_BUCKETS],
          'dropping the old indexes',
        )) as Reply;
        if (reply[0] !== 'ok') return;
        next = Number(reply[1]);
      }
    } catch (err) {
      this.options.logger?.warn(
        { err, store: this.options.storeName },
        'dropping the old indexes failed; a later start retries',
      );
    }
  }

  /**
   * Writes `relationships` as revision 1 when the store is empty (revision 0): true if this call
   * seeded it, false if it held data already (another replica seeded it; a seed under way is
   * waited for). Under the seeding lease the seed is published as the image of revision 1, then
   * committed; see SEED_BEGIN in redis-scripts.ts.
   */
  async seedIfEmpty(relationships: Iterable<Relationship>): Promise<boolean> {
    this.assertOpen();
    const id = newEpoch();
    const epoch = this.epoch;
    const step = async (name: ScriptName, extra: (string | number)[]): Promise<Reply> => {
      const reply = (await this.run(name, [epoch, id, ...extra], 'seeding')) as Reply;
      if (reply[0] === 'epoch') throw epochChanged(this.options.storeName, epoch, String(reply[1]));
      return reply;
    };
    let renewal: NodeJS.Timeout | undefined;
    try {
      let begun = await step('gatehouseSeedBegin', [SEED_LEASE_MS]);
      // Another replica is seeding: wait for it to finish, or for its lease to lapse (it died).
      // A store closed meanwhile (a replica shut down while it waited) stops here, not when
      // the other's lease ends: that can be longer than a pod's grace period.
      while (begun[0] === 'held') {
        await new Promise((resolve) => setTimeout(resolve, SEED_WAIT_MS));
        this.assertOpen();
        begun = await step('gatehouseSeedBegin', [SEED_LEASE_MS]);
      }
      if (begun[0] !== 'ok') return false;
      renewal = setInterval(() => {
        void step('gatehouseSeedBegin', [SEED_LEASE_MS]).catch(() => undefined);
      }, SEED_LEASE_MS / 3);
      renewal.unref();
      // Duplicates collapse, as with `touch`.
      const seed = MemoryStore.withRelationships(relationships, this.copyOptions(epoch));
      const key = { schemaHash: IMAGE_SCHEMA_HASH, epoch, revision: 1 };
      // A seeder that died after publishing left an image of revision 1 (perhaps of another file).
      await this.call('seeding', () => this.images.remove(key));
      for (;;) {
        this.assertOpen();
        const snapshot = await seed.snapshot();
        const published = await this.call('seeding', () => this.images.publish(key, encodeImage(snapshot)));
        if (published !== 'lease-held') break;
        // Another replica is publishing an image (of the previous epoch's data): wait for it.
        await new Promise((resolve) => setTimeout(resolve, SEED_WAIT_MS));
      }
      const done = await step('gatehouseSeedFinish', [this.settings.retention]);
      if (done[0] !== 'ok') return this.seedLost(done);
      const revision = Number(done[1]);
      if (revision > this.highWater && epoch === this.epoch) this.highWater = revision;
      return true;
    } finally {
      clearInterval(renewal);
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
    clearInterval(this.imageTimer);
    await this.mirror.close();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
    this.imageClient.disconnect();
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
        pipeline[command](first, this.scripts.scripts[name].numberOfKeys, scriptArgs(this.keys, args));
        pipeline.wait(waitReplicas, waitMs);
        return ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
      });
    let results = await send(false);
    if (isNoScript(results[0]?.[0])) results = await send(true);
    const [written, waited] = results;
    if (written === undefined || written[0] !== null) throw unavailable(written?.[0], doing);
    return [written[1], waited !== undefined && waited[0] === null ? Number(waited[1]) : 0];
  }

  /** Turns a commit reply into the plan's ChangeSet, or throws the typed error it reports. */
  private changeSetOf(
    reply: Reply,
    epoch: string,
    planned: WritePlan,
    expect: Revision | undefined,
    copy: MemoryStore,
  ): ChangeSet {
    const [status] = reply;
    if (status === 'ok') {
      const revision = Number(reply[1]);
      if (revision > this.highWater && epoch === this.epoch) this.highWater = revision;
      const changeSet: ChangeSet = { revision, changes: planned.changes, committedAt: Number(reply[2]) };
      this.ownCommits.set(changeSet, copy);
      // This instance's watchers (and its mirror) take it now instead of from the feed.
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
    throw new UnavailableError(
      `the Redis commit script returned an unexpected reply '${String(status)}' (outcome unknown: re-read before retrying)`,
    );
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

const NO_FIELDS: ReadonlySet<string> = new Set();

/**
 * A planned write as COMMIT takes it (see redis-scripts.ts): the fields its plan read, how many
 * of those its changes stamp too, and the other fields its changes stamp.
 */
function commitArgs(
  plannedAt: Revision,
  reads: readonly string[],
  ownReads: number,
  stamps: readonly string[],
  changes: readonly RelationshipChange[],
  expect: Revision | undefined,
): (string | number)[] {
  // One argument per list of fields, newline-separated (no field holds a newline): see COMMIT.
  return [expect ?? '', plannedAt, reads.join('\n'), ownReads, stamps.join('\n'), encodeChanges(changes)];
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
 * A script's keys and arguments as one array, which ioredis flattens: spread into the call, a
 * write of tens of thousands of relationships (two arguments each, or more) would overflow the
 * call stack.
 */
function scriptArgs(keys: StoreKeys, args: readonly (string | number)[]): string[] {
  const all = keyList(keys);
  for (const a of args) all.push(typeof a === 'string' ? a : String(a));
  return all;
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
  try {
    return await client.evalsha(set.shas[name], script.numberOfKeys, scriptArgs(keys, args));
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return client.eval(script.lua, script.numberOfKeys, scriptArgs(keys, args));
  }
}
