// The write-ahead log of a durable memory store: appends one record per committed revision and
// group-commits them: every record appended while an fsync is in flight shares the next one,
// and `durable(revision)` resolves only once the record of that revision is on disk.
import { type FileHandle, open } from 'node:fs/promises';
import { UnavailableError } from '../../errors.js';
import { encodeRecord } from './record-file.js';

/** The file operations the log needs: a parameter so tests can make fsync slow or fail. */
export interface LogFile {
  append(buffers: readonly Buffer[]): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Opens `path` for appending (created with mode 0600: relationship data stays in the pod). */
export async function openLogFile(path: string): Promise<LogFile> {
  const handle: FileHandle = await open(path, 'a', 0o600);
  return {
    async append(buffers) {
      await handle.writev(buffers as Buffer[]);
    },
    sync: () => handle.datasync(),
    close: () => handle.close(),
  };
}

interface Waiter {
  readonly revision: number;
  resolve(): void;
  reject(error: Error): void;
}

export class WriteAheadLog {
  private pending: Buffer[] = [];
  private pendingTop = 0;
  private waiters: Waiter[] = [];
  private syncedTop: number;
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  /** Records written to the current file: the store compacts when it grows past a threshold. */
  recordsInFile = 0;
  /** fsyncs done: for tests and metrics (fewer than records means writes shared one). */
  syncs = 0;

  /** `syncedTop`: the revision already durable when the log opens. */
  constructor(
    private file: LogFile,
    syncedTop: number,
    private readonly onBatchSynced: () => void = () => {},
  ) {
    this.syncedTop = syncedTop;
    this.pendingTop = syncedTop;
  }

  /** Queue the record of `revision` (revisions must arrive in order); written by the next flush. */
  append(revision: number, payload: Buffer): void {
    if (this.failure !== undefined) return;
    this.pending.push(encodeRecord(payload));
    this.pendingTop = revision;
    if (this.flushing === undefined) this.flushing = this.flushLoop();
  }

  /** Resolves once `revision` is on disk; rejects with UnavailableError if the log failed. */
  durable(revision: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (revision <= this.syncedTop) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ revision, resolve, reject }));
  }

  /** The error that stopped the log, if any: the store then refuses writes. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Switch to `file` for the next batch (compaction); the caller closes the old one. */
  async rotate(file: LogFile): Promise<LogFile> {
    // Swap only while no batch is in flight, so the old file is idle once this returns.
    while (this.flushing !== undefined) await this.flushing;
    const old = this.file;
    this.file = file;
    this.recordsInFile = 0;
    return old;
  }

  /** Flush what is queued, then close the file. */
  async close(): Promise<void> {
    await this.flushing;
    await this.file.close();
  }

  private async flushLoop(): Promise<void> {
    try {
      // One turn of the event loop first, so writers woken by the previous fsync (and requests
      // parsed in the same tick) join this batch rather than the one after it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.pending.length > 0 && this.failure === undefined) {
        const batch = this.pending;
        const top = this.pendingTop;
        const file = this.file;
        this.pending = [];
        try {
          await file.append(batch);
          await file.sync();
        } catch (err) {
          this.fail(err);
          return;
        }
        this.syncs++;
        this.recordsInFile += batch.length;
        this.syncedTop = top;
        const ready = this.waiters.filter((w) => w.revision <= top);
        this.waiters = this.waiters.filter((w) => w.revision > top);
        for (const w of ready) w.resolve();
        this.onBatchSynced();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private fail(err: unknown): void {
    // Callers get a generic message; the file system's detail travels as the cause, for the log.
    this.failure = new UnavailableError(
      'the write-ahead log could not be written: writes are refused until the server restarts',
      { cause: err },
    );
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
    this.pending = [];
  }
}
