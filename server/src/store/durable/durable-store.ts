// DurableStore: the memory store with a data directory. Every committed ChangeSet is appended
// to a write-ahead log and a write is acknowledged only once its record is fsynced; start-up
// loads the latest snapshot and replays the log after it, so no acknowledged write is lost to
// kill -9. The store's epoch lives in the directory, so revision tokens survive restarts.
import { mkdir, open, readdir, readFile, rename, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { ChangelogTruncatedError, FailedPreconditionError, InvalidArgumentError } from '../../errors.js';
import type { NumberedRelationshipVisitor, ObjectIds } from '../../model/object-ids.js';
import type { Relationship } from '../../model/relationship.js';
import { formatRelationshipWithAttributes, parseRelationship } from '../../model/relationship.js';
import type { Logger } from '../../observability/logger.js';
import type { Unsubscribe } from '../change-feed.js';
import { MemoryStore, type MemoryStoreOptions, randomEpoch } from '../memory-store.js';
import type {
  ChangeSet,
  Precondition,
  ReadPage,
  RelationshipFilter,
  RelationshipUpdate,
  Revision,
  Store,
  StoreIdentity,
  StoreSnapshot,
  WriteOptions,
} from '../store.js';
import { STORE_EPOCH_PATTERN } from '../store.js';
import { decodeRecords, encodeRecord } from './record-file.js';
import { type LogFile, openLogFile, WriteAheadLog } from './write-ahead-log.js';

export interface DurableStoreOptions {
  readonly dataDir: string;
  readonly storeName?: string;
  /** Compact (new snapshot, new log) once the current log holds this many records. Default 10 000. */
  readonly compactEvery?: number;
  readonly logger?: Logger;
  /** Passed to the wrapped MemoryStore (not storeName or epoch). */
  readonly memory?: MemoryStoreOptions;
  /** Opens log files; tests pass one with slow or failing fsync. */
  readonly openLog?: (path: string) => Promise<LogFile>;
}

export const DEFAULT_COMPACT_EVERY = 10_000;
const IDENTITY_FILE = 'identity.json';
const SNAPSHOT_FILE = 'snapshot';
const LOG_PATTERN = /^log-(\d{12})\.wal$/;

function logName(seq: number): string {
  return `log-${String(seq).padStart(12, '0')}.wal`;
}

/** Write `data` to `path` atomically: temp file, fsync, rename, fsync the directory. */
async function writeAtomically(
  dir: string,
  name: string,
  write: (fh: import('node:fs/promises').FileHandle) => Promise<void>,
): Promise<void> {
  const temp = join(dir, `${name}.tmp`);
  const fh = await open(temp, 'w', 0o600);
  try {
    await write(fh);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(temp, join(dir, name));
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * One log record: the revision and its changes as [op, relationship] pairs, each relationship in
 * its full string form (with `[condition:{...}]` and `[expiration:...]`), which parseRelationship reads back.
 */
interface LogPayload {
  readonly r: number;
  readonly c: readonly (readonly ['i' | 'd', string])[];
}

function encodeChangeSet(revision: Revision, change: ChangeSet): Buffer {
  const payload: LogPayload = {
    r: revision,
    c: change.changes.map((c) => [
      c.operation === 'insert' ? 'i' : 'd',
      formatRelationshipWithAttributes(c.relationship),
    ]),
  };
  return Buffer.from(JSON.stringify(payload));
}

function corrupt(file: string, detail: string): InvalidArgumentError {
  return new InvalidArgumentError(`data dir file ${file} is not usable: ${detail}`, { field: 'dataDir' });
}

export class DurableStore implements Store {
  readonly kind = 'memory';
  private compacting: Promise<void> | undefined;
  private unsubscribe: Unsubscribe | undefined;

  private constructor(
    private readonly inner: MemoryStore,
    /** Durable revision = inner revision + offset (the inner store starts at 1 on its snapshot). */
    private readonly offset: number,
    private readonly wal: WriteAheadLog,
    private logSeq: number,
    private readonly dir: string,
    private readonly compactEvery: number,
    private readonly openLog: (path: string) => Promise<LogFile>,
    private readonly logger: Logger | undefined,
  ) {}

  /**
   * Open (or initialise) `dataDir`. An empty dir is seeded with `seed` (the policy files'
   * relationships) as revision 1 and `seeded` is true; without a seed it starts empty at
   * revision 0. A dir with data ignores the seed.
   */
  static async open(
    options: DurableStoreOptions,
    seed?: AsyncIterable<readonly Relationship[]>,
  ): Promise<{ store: DurableStore; seeded: boolean }> {
    const dir = options.dataDir;
    const compactEvery = options.compactEvery ?? DEFAULT_COMPACT_EVERY;
    if (!Number.isInteger(compactEvery) || compactEvery < 1) {
      throw new InvalidArgumentError(`invalid compactEvery=${compactEvery}: it must be an integer >= 1`, {
        field: 'compactEvery',
      });
    }
    const openLog = options.openLog ?? openLogFile;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await rm(join(dir, `${SNAPSHOT_FILE}.tmp`), { force: true });
    const base = { ...options.memory, storeName: options.storeName ?? 'default' };
    const epoch = await readEpoch(dir);
    let inner: MemoryStore;
    let offset = 0;
    let logSeq = 1;
    let seeded = false;
    if (epoch === undefined) {
      const names = await readdir(dir);
      if (names.includes(SNAPSHOT_FILE) || names.some((n) => LOG_PATTERN.test(n))) {
        throw corrupt(IDENTITY_FILE, 'it is missing but the directory holds a snapshot or log');
      }
      const fresh = randomEpoch();
      inner =
        seed === undefined
          ? new MemoryStore({ ...base, epoch: fresh })
          : await MemoryStore.withRelationshipChunks(seed, { ...base, epoch: fresh });
      await writeSnapshot(dir, inner, 0);
      // The identity file goes last: its presence says the directory is initialised.
      await writeAtomically(dir, IDENTITY_FILE, (fh) => fh.writeFile(JSON.stringify({ epoch: fresh })));
      seeded = true;
    } else {
      const snapshot = await readSnapshot(dir);
      // Revision 0 is the empty store; any other snapshot loads as the inner store's revision 1.
      inner =
        snapshot.revision === 0
          ? new MemoryStore({ ...base, epoch })
          : await MemoryStore.withRelationshipChunks(chunksOf(snapshot.relationships), { ...base, epoch });
      offset = Math.max(0, snapshot.revision - 1);
      logSeq = await replayLogs(dir, inner, offset, options.logger);
    }
    const file = await openLog(join(dir, logName(logSeq)));
    let store: DurableStore | undefined;
    const wal = new WriteAheadLog(file, (await inner.revision()) + offset, () => store?.maybeCompact());
    store = new DurableStore(inner, offset, wal, logSeq, dir, compactEvery, openLog, options.logger);
    store.unsubscribe = inner.subscribe(await inner.revision(), (change) => {
      const revision = change.revision + offset;
      wal.append(revision, encodeChangeSet(revision, change));
    });
    return { store, seeded };
  }

  /** fsyncs done so far: fewer than writes when writes shared one (group commit). */
  get syncs(): number {
    return this.wal.syncs;
  }

  /**
   * The wrapped memory store's numbering of types and ids: the graph built from this store
   * adopts it, so each id is held once in the process, as without a data dir.
   */
  get objectIds(): ObjectIds {
    return this.inner.objectIds;
  }

  /** Every relationship as numbers of `objectIds`, at the durable revision it returns. */
  forEachNumbered(visitor: NumberedRelationshipVisitor): Revision {
    return this.inner.forEachNumbered(visitor) + this.offset;
  }

  async identity(): Promise<StoreIdentity> {
    return this.inner.identity();
  }

  async revision(): Promise<Revision> {
    return (await this.inner.revision()) + this.offset;
  }

  async write(
    updates: readonly RelationshipUpdate[],
    preconditions?: readonly Precondition[],
    options: WriteOptions = {},
  ): Promise<ChangeSet> {
    this.refuseIfFailed();
    let innerOptions: WriteOptions = {};
    if (options.expectRevision !== undefined) {
      const current = await this.revision();
      if (options.expectRevision !== current) {
        throw new FailedPreconditionError(
          `the store moved on: the write expected revision ${options.expectRevision} but the store is at ${current}; re-read and retry`,
          { field: 'expectRevision' },
        );
      }
      innerOptions = { expectRevision: current - this.offset };
    }
    return this.acknowledge(await this.inner.write(updates, preconditions, innerOptions));
  }

  async deleteByFilter(
    filter: RelationshipFilter,
    preconditions?: readonly Precondition[],
    limit?: number,
  ): Promise<ChangeSet> {
    this.refuseIfFailed();
    return this.acknowledge(await this.inner.deleteByFilter(filter, preconditions, limit));
  }

  async read(
    filter: RelationshipFilter,
    page: { readonly limit: number; readonly cursor?: string | undefined },
  ): Promise<ReadPage> {
    const result = await this.inner.read(filter, page);
    return { ...result, revision: result.revision + this.offset };
  }

  async snapshot(): Promise<StoreSnapshot> {
    const snap = await this.inner.snapshot();
    return { revision: snap.revision + this.offset, chunks: () => snap.chunks() };
  }

  watch(after: Revision, signal?: AbortSignal): AsyncIterable<ChangeSet> {
    const { offset, inner } = this;
    // The inner store's revision 1 is the whole snapshot, not one ChangeSet: nothing before
    // the snapshot can be replayed.
    if (offset > 0 && after >= 0 && after - offset < 1) {
      const error = new ChangelogTruncatedError(
        `revision ${after} is older than the changelog kept since the last restart (from ${offset + 1}); resync from a snapshot`,
        offset + 1,
      );
      return {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
      };
    }
    const source = inner.watch(after < 0 ? after : after - offset, signal);
    return (async function* mapped(): AsyncGenerator<ChangeSet> {
      for await (const change of source) yield { ...change, revision: change.revision + offset };
    })();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.inner.close();
    await this.compacting;
    await this.wal.close();
  }

  private refuseIfFailed(): void {
    const failed = this.wal.failed;
    if (failed !== undefined) throw failed;
  }

  /** The caller's answer waits for the record's fsync (group commit shares it). */
  private async acknowledge(change: ChangeSet): Promise<ChangeSet> {
    const revision = change.revision + this.offset;
    await this.wal.durable(revision);
    return Object.freeze({ ...change, revision });
  }

  private maybeCompact(): void {
    if (this.compacting !== undefined || this.wal.recordsInFile < this.compactEvery) return;
    this.compacting = this.compact()
      .catch((err: unknown) =>
        this.logger?.error({ err }, 'data dir compaction failed; the log keeps growing'),
      )
      .finally(() => {
        this.compacting = undefined;
      });
  }

  /** New log file first, then a snapshot covering everything in the old ones, then drop them. */
  private async compact(): Promise<void> {
    const next = this.logSeq + 1;
    const old = await this.wal.rotate(await this.openLog(join(this.dir, logName(next))));
    this.logSeq = next;
    await old.close();
    // Taken right after the swap: every record in an older file is at or below its revision.
    await writeSnapshot(this.dir, this.inner, this.offset);
    for (const name of await readdir(this.dir)) {
      const m = LOG_PATTERN.exec(name);
      if (m !== null && Number(m[1]) < next) await rm(join(this.dir, name), { force: true });
    }
  }
}

async function readEpoch(dir: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, IDENTITY_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let epoch: unknown;
  try {
    epoch = (JSON.parse(text) as { epoch?: unknown }).epoch;
  } catch {
    epoch = undefined;
  }
  if (typeof epoch !== 'string' || !STORE_EPOCH_PATTERN.test(epoch))
    throw corrupt(IDENTITY_FILE, 'no valid epoch');
  return epoch;
}

/**
 * The snapshot file: a header record {revision}, one record per chunk (relationship strings in
 * their full form, condition and expiry included), and a trailer {count}; a file without its trailer is rejected (it is only ever
 * renamed into place complete, so that means corruption).
 */
async function writeSnapshot(dir: string, inner: MemoryStore, offset: number): Promise<void> {
  const snap = await inner.snapshot();
  await writeAtomically(dir, SNAPSHOT_FILE, async (fh) => {
    await fh.write(encodeRecord(Buffer.from(JSON.stringify({ revision: snap.revision + offset }))));
    let count = 0;
    for await (const chunk of snap.chunks()) {
      count += chunk.length;
      await fh.write(encodeRecord(Buffer.from(JSON.stringify(chunk.map(formatRelationshipWithAttributes)))));
    }
    await fh.write(encodeRecord(Buffer.from(JSON.stringify({ count }))));
  });
}

async function readSnapshot(dir: string): Promise<{ revision: number; relationships: string[][] }> {
  const { payloads, torn } = decodeRecords(await readFile(join(dir, SNAPSHOT_FILE)));
  if (torn || payloads.length < 2) throw corrupt(SNAPSHOT_FILE, 'a record is torn or corrupt');
  const header = JSON.parse(payloads[0]!.toString()) as { revision?: unknown };
  const trailer = JSON.parse(payloads[payloads.length - 1]!.toString()) as { count?: unknown };
  const relationships = payloads.slice(1, -1).map((p) => JSON.parse(p.toString()) as string[]);
  const count = relationships.reduce((n, c) => n + c.length, 0);
  if (typeof header.revision !== 'number' || header.revision < 0 || trailer.count !== count) {
    throw corrupt(SNAPSHOT_FILE, 'its header or trailer does not match its contents');
  }
  return { revision: header.revision, relationships };
}

async function* chunksOf(chunks: string[][]): AsyncGenerator<readonly Relationship[]> {
  for (const chunk of chunks) yield chunk.map((s) => parseRelationship(s));
}

/**
 * Applies every log record after the snapshot, in order. A torn or corrupt record ends the
 * last file (it was never acknowledged: truncated away); anywhere else it is an error.
 * Returns the sequence number to keep appending to.
 */
async function replayLogs(
  dir: string,
  inner: MemoryStore,
  offset: number,
  logger: Logger | undefined,
): Promise<number> {
  const files = (await readdir(dir)).filter((n) => LOG_PATTERN.test(n)).sort();
  for (const [i, name] of files.entries()) {
    const path = join(dir, name);
    const { payloads, validBytes, torn } = decodeRecords(await readFile(path));
    for (const payload of payloads) {
      const record = JSON.parse(payload.toString()) as LogPayload;
      const current = (await inner.revision()) + offset;
      if (record.r <= current) continue;
      if (record.r !== current + 1) throw corrupt(name, `revision ${record.r} follows ${current}`);
      await inner.write(
        record.c.map(([op, rel]) => ({
          operation: op === 'i' ? ('touch' as const) : ('delete' as const),
          relationship: parseRelationship(rel),
        })),
      );
    }
    if (torn) {
      if (i !== files.length - 1) throw corrupt(name, 'a record in the middle of the log is corrupt');
      logger?.warn(
        { file: name, keptBytes: validBytes },
        'data dir: dropped a torn log tail (never acknowledged)',
      );
      await truncate(path, validBytes);
    }
  }
  const last = files[files.length - 1];
  return last === undefined ? 1 : Number(LOG_PATTERN.exec(last)![1]);
}
