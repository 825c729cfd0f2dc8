// Compiled graph snapshots cached in Redis: bounded chunks under the store's hash tag, keyed by
// schema hash and revision, written by one replica at a time (a lease), the newest few kept, each
// verified by a checksum over its bytes before a replica trusts it: a CRC-32 (2-3 times cheaper to
// check than the SHA-256 also written, which builds that predate the CRC verify instead).
import { constants } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../../observability/index.js';
import type { Revision } from '../store.js';
import { type BulkEndpoint, readValues } from './bulk-value-reader.js';

/** Snapshot chunks requested ahead while loading (each up to the chunk size, 256 KiB by default). */
const CHUNKS_IN_FLIGHT = 8;
const MAX_LENGTH = constants.MAX_LENGTH;
/** A load's own connection gives up after this long without progress (as the cache client's command timeout). */
const OWN_READ_TIMEOUT_MS = 10_000;
/** Stands in for a chunk already consumed, so its reply buffer is not kept alive by the array. */
const DONE: Promise<Buffer | null> = Promise.resolve(null);

/** The Redis client a cache talks to (standalone, Sentinel or Cluster: every key shares one slot). */
export type SnapshotRedis = Redis | Cluster;

export interface GraphSnapshotCacheOptions {
  readonly redis: SnapshotRedis;
  /** The store's key prefix with its hash tag, e.g. `{gatehouse:default}`; every key starts with it. */
  readonly keyPrefix: string;
  /**
   * The cache's own part of every key after the prefix (default 'gsnap'): relationship images use
   * 'image', so they have their own lease and index and never mix with compiled graphs.
   */
  readonly namespace?: string | undefined;
  /** Largest chunk written with one command, so no single SET blocks Redis for long (default 256 KiB). */
  readonly chunkBytes?: number | undefined;
  /** Snapshots kept per schema hash (default 2). */
  readonly keep?: number | undefined;
  /** How long a publisher's lease lasts unless renewed (default 30 s). */
  readonly leaseMs?: number | undefined;
  /** A schema hash with no snapshot published for this long stops pinning the changelog (default 24 h). */
  readonly staleAfterMs?: number | undefined;
  readonly logger?: Logger | undefined;
  /**
   * Where loads read chunks over a connection of their own (bulk-value-reader.ts), asked at each
   * load; undefined (or no function) reads them through `redis`, as a TLS client must.
   */
  readonly bulkEndpoint?: (() => BulkEndpoint | undefined) | undefined;
  /** Injected clock (ms since the epoch). */
  readonly now?: (() => number) | undefined;
}

/** What identifies one snapshot: the compiled schema it belongs to, the store epoch and revision. */
export interface SnapshotKey {
  readonly schemaHash: string;
  readonly epoch: string;
  readonly revision: Revision;
}

export type LoadResult =
  | { readonly status: 'hit'; readonly key: SnapshotKey; readonly chunks: readonly Uint8Array[] }
  | { readonly status: 'miss' }
  /** The newest snapshot failed its checksum or lost a chunk: rebuild from the relationships. */
  | { readonly status: 'corrupt'; readonly key: SnapshotKey; readonly reason: string };

export type PublishResult = 'published' | 'exists' | 'lease-held';

/** This cache's entry layout (independent of the graph codec's own format version). */
const ENTRY_FORMAT = '1';
const SAFE = /^[0-9A-Za-z_.-]{1,128}$/;

const RELEASE_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW_LEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export class GraphSnapshotCache {
  readonly #redis: SnapshotRedis;
  readonly #prefix: string;
  readonly #chunkBytes: number;
  readonly #keep: number;
  readonly #leaseMs: number;
  readonly #staleAfterMs: number;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #bulkEndpoint: (() => BulkEndpoint | undefined) | undefined;

  constructor(options: GraphSnapshotCacheOptions) {
    this.#redis = options.redis;
    this.#prefix = `${options.keyPrefix}:${options.namespace ?? 'gsnap'}`;
    this.#chunkBytes = options.chunkBytes ?? 256 * 1024;
    this.#keep = Math.max(1, options.keep ?? 2);
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#staleAfterMs = options.staleAfterMs ?? 24 * 3600_000;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#bulkEndpoint = options.bulkEndpoint;
    if (this.#chunkBytes < 1) throw new RangeError('chunkBytes must be at least 1');
  }

  /**
   * Store one snapshot unless another replica holds the publishing lease or it exists already.
   * Each of `parts` is stored as one chunk (cut only if larger than `chunkBytes`) and loaded back as
   * one, so a codec's chunk boundaries survive. The entry becomes
   * visible to loaders only once every chunk is written (its metadata and index entry go last).
   */
  async publish(
    key: SnapshotKey,
    parts: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<PublishResult> {
    checkKey(key);
    const token = randomBytes(12).toString('hex');
    const lease = `${this.#prefix}:lease`;
    const acquired = await this.#redis.set(lease, token, 'PX', this.#leaseMs, 'NX');
    if (acquired !== 'OK') return 'lease-held';
    try {
      const revs = this.#revsKey(key.schemaHash);
      if ((await this.#redis.zscore(revs, this.#member(key))) !== null) return 'exists';
      const hash = createHash('sha256');
      let crc = 0;
      let chunks = 0;
      let bytes = 0;
      let renewedAt = this.#now();
      const base = this.#entryKey(key);
      const writeChunk = async (chunk: Uint8Array): Promise<void> => {
        hash.update(chunk);
        crc = crc32(chunk, crc);
        await this.#redis.set(
          `${base}:c:${chunks}`,
          Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
        );
        chunks += 1;
        bytes += chunk.byteLength;
        if (this.#now() - renewedAt > this.#leaseMs / 3) {
          renewedAt = this.#now();
          const renewed = await this.#redis.eval(RENEW_LEASE, 1, lease, token, String(this.#leaseMs));
          if (renewed !== 1) throw new Error('lost the snapshot publishing lease while writing chunks');
        }
      };
      // Each part stays one chunk (a codec's chunk boundaries survive the round trip); only a part
      // larger than chunkBytes is cut.
      for await (const part of parts) {
        for (let offset = 0; offset < part.byteLength; offset += this.#chunkBytes) {
          await writeChunk(part.subarray(offset, Math.min(part.byteLength, offset + this.#chunkBytes)));
        }
      }
      if (chunks === 0) await writeChunk(new Uint8Array(0));
      const now = this.#now();
      await this.#redis
        .multi()
        .hset(`${base}:meta`, {
          format: ENTRY_FORMAT,
          schemaHash: key.schemaHash,
          epoch: key.epoch,
          revision: String(key.revision),
          chunks: String(chunks),
          bytes: String(bytes),
          sha256: hash.digest('hex'),
          crc32: String(crc),
          createdAt: String(now),
        })
        .zadd(revs, key.revision, this.#member(key))
        .zadd(`${this.#prefix}:hashes`, now, key.schemaHash)
        .exec();
      await this.#prune(key.schemaHash);
      this.#logger?.info(
        { schemaHash: key.schemaHash, revision: key.revision, bytes, chunks },
        'graph snapshot published',
      );
      return 'published';
    } finally {
      await this.#redis.eval(RELEASE_LEASE, 1, lease, token).catch(() => undefined);
    }
  }

  /**
   * The newest snapshot for `schemaHash` in `epoch`, at or below `maxRevision` when given, its bytes
   * verified against the checksum written with it. A corrupt or incomplete entry is removed (so a
   * later publish replaces it) and reported, never returned.
   */
  async loadNewest(schemaHash: string, epoch: string, maxRevision?: Revision): Promise<LoadResult> {
    if (!SAFE.test(schemaHash) || !SAFE.test(epoch))
      throw new RangeError('schemaHash and epoch must be plain tokens');
    const members = await this.#redis.zrevrangebyscore(
      this.#revsKey(schemaHash),
      maxRevision === undefined ? '+inf' : String(maxRevision),
      '-inf',
    );
    for (const member of members) {
      const [memberEpoch, rev] = member.split(':');
      if (memberEpoch !== epoch) continue;
      const key: SnapshotKey = { schemaHash, epoch, revision: Number(rev) };
      const result = await this.#read(key);
      // Pruned by a publisher between the index read and this one: try the next older entry.
      if (result === 'vanished') continue;
      if (result.status === 'corrupt') {
        this.#logger?.warn(
          { schemaHash, revision: key.revision, reason: result.reason },
          'graph snapshot rejected',
        );
        await this.#remove(key);
      }
      return result;
    }
    return { status: 'miss' };
  }

  /** Every snapshot kept for `schemaHash`, newest first (for operators and tests). */
  async list(schemaHash: string): Promise<SnapshotKey[]> {
    const members = await this.#redis.zrevrange(this.#revsKey(schemaHash), '0', '-1');
    return members.map((m) => {
      const [epoch, rev] = m.split(':');
      return { schemaHash, epoch: epoch ?? '', revision: Number(rev) };
    });
  }

  /**
   * The oldest revision a replica may still need from the changelog: the oldest snapshot kept for any
   * schema hash published within `staleAfterMs` of `now`. The changelog may be trimmed up to (and
   * including) it; undefined means no snapshot pins the changelog.
   */
  async oldestNeededRevision(): Promise<Revision | undefined> {
    const hashes = await this.#redis.zrangebyscore(
      `${this.#prefix}:hashes`,
      this.#now() - this.#staleAfterMs,
      '+inf',
    );
    let oldest: Revision | undefined;
    for (const schemaHash of hashes) {
      const first = await this.#redis.zrange(this.#revsKey(schemaHash), '0', '0', 'WITHSCORES');
      if (first.length < 2) continue;
      const rev = Number(first[1]);
      if (oldest === undefined || rev < oldest) oldest = rev;
    }
    return oldest;
  }

  /** Removes one entry if present (a seeder replacing a dead seeder's image of the same revision). */
  async remove(key: SnapshotKey): Promise<void> {
    checkKey(key);
    await this.#remove(key);
  }

  /** The Redis key of one chunk (tests corrupt it to prove the checksum catches it). */
  chunkKey(key: SnapshotKey, index: number): string {
    return `${this.#entryKey(key)}:c:${index}`;
  }

  async #read(key: SnapshotKey): Promise<LoadResult | 'vanished'> {
    const base = this.#entryKey(key);
    const meta = await this.#redis.hgetall(`${base}:meta`);
    if (
      Object.keys(meta).length === 0 &&
      (await this.#redis.zscore(this.#revsKey(key.schemaHash), this.#member(key))) === null
    ) {
      return 'vanished';
    }
    if (meta.format !== ENTRY_FORMAT) {
      return {
        status: 'corrupt',
        key,
        reason: `entry format ${meta.format ?? 'missing'} is not ${ENTRY_FORMAT}`,
      };
    }
    const chunks = Number(meta.chunks);
    const bytes = Number(meta.bytes);
    if (
      !Number.isSafeInteger(chunks) ||
      !Number.isSafeInteger(bytes) ||
      chunks < 1 ||
      bytes < 0 ||
      bytes > MAX_LENGTH
    ) {
      return { status: 'corrupt', key, reason: 'metadata names no chunk count or size' };
    }
    const keys = Array.from({ length: chunks }, (_, i) => `${base}:c:${i}`);
    // Every chunk lands in one buffer of the recorded size (its own ArrayBuffer, so 4-byte
    // aligned): the returned chunks are consecutive views of it, and a decoder may keep the bytes
    // as its tables instead of copying them again.
    const whole = Buffer.allocUnsafeSlow(bytes);
    const endpoint = this.#bulkEndpoint?.();
    if (endpoint !== undefined) {
      // Over a connection of the cache's own that reads into one reused buffer (bulk-value-reader.ts
      // says why); whatever goes wrong there, the client's reads below decide.
      const assembly = new ChunkAssembly(key, whole, meta);
      try {
        const outcome = await readValues(endpoint, keys, assembly, { timeoutMs: OWN_READ_TIMEOUT_MS });
        const result = assembly.result(outcome);
        if (result.status === 'hit') {
          this.#logger?.debug(
            { host: endpoint.host, port: endpoint.port, chunks: keys.length },
            'snapshot read over its own connection',
          );
          return result;
        }
        this.#logger?.debug(
          { reason: result.reason },
          'snapshot read over its own connection refused; reading through the client',
        );
      } catch (err) {
        this.#logger?.debug(
          { err },
          'snapshot read over its own connection failed; reading through the client',
        );
      }
    }
    return this.#readByClient(keys, new ChunkAssembly(key, whole, meta));
  }

  /** Reads the chunks through the shared client, several GETs in flight, each reply copied once and dropped. */
  async #readByClient(keys: readonly string[], assembly: ChunkAssembly): Promise<LoadResult> {
    // Several GETs in flight at once (one connection pipelines them): the load is then bound by
    // Redis's and the socket's throughput instead of one round trip per chunk; each chunk is
    // hashed and copied while the next ones are on the wire.
    const fetched: Promise<Buffer | null>[] = [];
    const fetch = (i: number): void => {
      if (i >= keys.length) return;
      const pending = this.#redis.getBuffer(keys[i] as string);
      pending.catch(() => undefined); // awaited below, unless an earlier chunk ended the read
      fetched[i] = pending;
    };
    for (let i = 0; i < CHUNKS_IN_FLIGHT; i++) fetch(i);
    for (let i = 0; i < keys.length; i++) {
      const chunk = await (fetched[i] as Promise<Buffer | null>);
      fetched[i] = DONE;
      fetch(i + CHUNKS_IN_FLIGHT);
      if (!assembly.begin(i, chunk === null ? null : chunk.byteLength)) return assembly.result('stopped');
      assembly.bytes(chunk as Buffer);
    }
    return assembly.result('done');
  }

  async #prune(schemaHash: string): Promise<void> {
    const stale = await this.#redis.zrange(this.#revsKey(schemaHash), '0', String(-(this.#keep + 1)));
    for (const member of stale) {
      const [epoch, rev] = member.split(':');
      await this.#remove({ schemaHash, epoch: epoch ?? '', revision: Number(rev) });
    }
  }

  async #remove(key: SnapshotKey): Promise<void> {
    const base = this.#entryKey(key);
    const chunks = Number(await this.#redis.hget(`${base}:meta`, 'chunks'));
    // Index entry first, so no loader starts on an entry whose chunks are going away.
    await this.#redis.zrem(this.#revsKey(key.schemaHash), this.#member(key));
    const keys = [`${base}:meta`];
    for (let i = 0; i < (Number.isSafeInteger(chunks) ? chunks : 0); i++) keys.push(`${base}:c:${i}`);
    for (let i = 0; i < keys.length; i += 100) await this.#redis.del(...keys.slice(i, i + 100));
  }

  #revsKey(schemaHash: string): string {
    return `${this.#prefix}:${schemaHash}:revs`;
  }

  #member(key: SnapshotKey): string {
    return `${key.epoch}:${key.revision}`;
  }

  #entryKey(key: SnapshotKey): string {
    return `${this.#prefix}:${key.schemaHash}:${key.epoch}:${key.revision}`;
  }
}

/**
 * Puts a snapshot's chunks together as they arrive, from either reader: each copied into its place
 * in `whole` and checksummed on the way, then checked against the entry's size and checksum.
 */
class ChunkAssembly {
  readonly #chunks: Uint8Array[] = [];
  // Entries carry both checksums; one written before the CRC existed is checked by its SHA-256.
  readonly #hash;
  #crc = 0;
  #offset = 0;
  #refused: string | undefined;

  constructor(
    private readonly key: SnapshotKey,
    private readonly whole: Buffer,
    private readonly meta: Readonly<Record<string, string>>,
  ) {
    this.#hash = meta.crc32 === undefined ? createHash('sha256') : undefined;
  }

  /** Chunk `index` of `length` bytes (null: missing) begins; false when that already refuses the entry. */
  begin(index: number, length: number | null): boolean {
    if (length === null) this.#refused = `chunk ${index} of ${this.meta.chunks} is missing`;
    else if (this.#offset + length > this.whole.byteLength) {
      this.#refused = `chunk ${index} runs past the recorded size ${this.whole.byteLength}`;
    } else {
      this.#chunks.push(this.whole.subarray(this.#offset, this.#offset + length));
      return true;
    }
    return false;
  }

  bytes(view: Uint8Array): void {
    if (this.#hash === undefined) this.#crc = crc32(view, this.#crc);
    else this.#hash.update(view);
    this.whole.set(view, this.#offset);
    this.#offset += view.byteLength;
  }

  result(outcome: 'done' | 'stopped'): Exclude<LoadResult, { status: 'miss' }> {
    const key = this.key;
    if (this.#refused !== undefined) return { status: 'corrupt', key, reason: this.#refused };
    if (outcome !== 'done') return { status: 'corrupt', key, reason: 'read stopped early' };
    const bytes = this.whole.byteLength;
    if (this.#offset !== bytes)
      return { status: 'corrupt', key, reason: `${this.#offset} bytes read, ${bytes} recorded` };
    const intact =
      this.#hash === undefined
        ? String(this.#crc) === this.meta.crc32
        : this.#hash.digest('hex') === this.meta.sha256;
    if (!intact) return { status: 'corrupt', key, reason: 'checksum mismatch' };
    return { status: 'hit', key, chunks: this.#chunks };
  }
}

/** When to publish: after `everyChanges` revisions or `everyMs` with at least one change, whichever first. */
export class SnapshotSchedule {
  readonly #everyChanges: number;
  readonly #everyMs: number;
  #lastRevision: Revision;
  #lastAt: number;

  constructor(options: { everyChanges: number; everyMs: number; revision: Revision; now: number }) {
    this.#everyChanges = options.everyChanges;
    this.#everyMs = options.everyMs;
    this.#lastRevision = options.revision;
    this.#lastAt = options.now;
  }

  due(revision: Revision, now: number): boolean {
    if (revision <= this.#lastRevision) return false;
    return revision - this.#lastRevision >= this.#everyChanges || now - this.#lastAt >= this.#everyMs;
  }

  /** Record a publish (or an attempt another replica won) at `revision`. */
  published(revision: Revision, now: number): void {
    this.#lastRevision = Math.max(this.#lastRevision, revision);
    this.#lastAt = now;
  }
}

function checkKey(key: SnapshotKey): void {
  if (!SAFE.test(key.schemaHash) || !SAFE.test(key.epoch)) {
    throw new RangeError('schemaHash and epoch must be plain tokens ([0-9A-Za-z_.-], at most 128)');
  }
  if (!Number.isSafeInteger(key.revision) || key.revision < 0)
    throw new RangeError('revision must be a non-negative integer');
}
