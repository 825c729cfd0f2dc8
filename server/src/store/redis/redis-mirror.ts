// A RedisStore's mirror: this replica's copy of the store's relationship set, a MemoryStore that
// applies the changelog in revision order. Writes are planned on it and committed in Redis by
// compare-and-set; reads and snapshots are served from it once it has reached the revision
// Redis reports (docs/design/redis-changelog-store.md). It starts from what `load` gives (the
// newest relationship image and the changelog after it) and follows the changelog; when it
// falls behind the changelog's trim point, or the store's epoch changes, it loads again, and
// the previous copy stays in place until the new one is ready. A lost connection is retried
// with backoff from the last applied revision.
import { ChangelogTruncatedError, StoreEpochChangedError, UnavailableError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { MemoryStore } from '../memory-store.js';
import type { ChangeSet, Revision } from '../store.js';

export interface MirrorSource {
  readonly storeName: string;
  readonly logger?: Logger | undefined;
  /**
   * The epoch the store instance is in now. The mirror never moves the instance to a new epoch
   * itself: whoever owns the store learns it (identity()), after handling the data loss, and
   * tells the mirror (epochChanged).
   */
  epoch(): string;
  /** The set to start from, at a revision of `epoch`. */
  load(epoch: string): Promise<MemoryStore>;
  /** Every change set after `after` in `epoch`, then each as it commits, until `signal` aborts. */
  follow(epoch: string, after: Revision, signal: AbortSignal): AsyncIterable<ChangeSet>;
  /** Told after each change set the copy applied. */
  applied?(copy: MemoryStore, epoch: string): void;
  /** Whether `changeSet` is a plan made on `copy` that Redis committed (its own commit: applied unchecked). */
  plannedOn?(changeSet: ChangeSet, copy: MemoryStore): boolean;
}

interface Waiter {
  readonly epoch: string;
  readonly revision: Revision;
  readonly resolve: (copy: MemoryStore) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2000;
/** A hold nobody released ends after this long. */
const MAX_HOLD_MS = 60_000;

/** A change set from the changelog did not apply to the copy (the copy is dropped and reloaded). */
class DivergedError extends Error {
  constructor(cause: unknown) {
    super('the change set does not apply to this copy', { cause });
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class RedisMirror {
  readonly #source: MirrorSource;
  #copy: MemoryStore | undefined;
  #copyEpoch = '';
  #waiters: Waiter[] = [];
  #holds = 0;
  #resume: (() => void)[] = [];
  #closed = false;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  /** Wakes the loop waiting for the store instance to move to a new epoch. */
  #epochMoved: (() => void) | undefined;

  constructor(source: MirrorSource) {
    this.#source = source;
  }

  /** Starts loading and following, in the background. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** The copy now and its epoch, or undefined while the first load is under way. */
  get current(): { readonly copy: MemoryStore; readonly epoch: string } | undefined {
    return this.#copy === undefined ? undefined : { copy: this.#copy, epoch: this.#copyEpoch };
  }

  /**
   * The copy once it holds `revision` of `epoch` (revision 0: as soon as there is a copy of that
   * epoch). Fails with UnavailableError after `timeoutMs`, or when the mirror closes, and with
   * StoreEpochChangedError when the copy moved to another epoch.
   */
  waitFor(epoch: string, revision: Revision, timeoutMs: number): Promise<MemoryStore> {
    const copy = this.#copy;
    if (copy !== undefined && this.#copyEpoch === epoch && copy.latestRevision >= revision) {
      return Promise.resolve(copy);
    }
    if (this.#closed) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        const at = this.#copy === undefined ? 'still loading' : `at revision ${this.#copy.latestRevision}`;
        reject(
          new UnavailableError(
            `this replica's copy of Redis store '${this.#source.storeName}' did not reach revision ${revision} within ${timeoutMs} ms (it is ${at}); retry`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      const waiter: Waiter = { epoch, revision, resolve, reject, timer };
      this.#waiters.push(waiter);
    });
  }

  /** The store instance moved to another epoch (identity()): the copy of the old one is reloaded. */
  epochChanged(): void {
    this.#epochMoved?.();
  }

  /**
   * Stops applying changes (and replacing the copy) until the returned function is called (or
   * MAX_HOLD_MS passes). Nothing in the store needs it since snapshots keep the rows later
   * changes remove (snapshot-rows.ts); the behaviour tests use it to keep a mirror behind the
   * store, as a slow one would be.
   */
  hold(): () => void {
    this.#holds += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.#holds -= 1;
      if (this.#holds === 0) for (const resume of this.#resume.splice(0)) resume();
    };
    const timer = setTimeout(release, MAX_HOLD_MS);
    timer.unref();
    return release;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop.abort();
    this.#epochMoved?.();
    for (const resume of this.#resume.splice(0)) resume();
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.#closedError());
    }
    await this.#loop;
  }

  #closedError(): UnavailableError {
    return new UnavailableError(
      `the Redis store '${this.#source.storeName}' is closed: it accepts no more calls`,
    );
  }

  async #run(): Promise<void> {
    const log = this.#source.logger;
    let backoff = MIN_BACKOFF_MS;
    while (!this.#closed) {
      try {
        if (this.#copy === undefined || this.#copyEpoch !== this.#source.epoch()) await this.#load();
        const copy = this.#copy as MemoryStore;
        const epoch = this.#copyEpoch;
        for await (const changeSet of this.#source.follow(epoch, copy.latestRevision, this.#stop.signal)) {
          await this.#whileHeld();
          if (this.#closed) return;
          try {
            copy.applyCommitted(changeSet, this.#source.plannedOn?.(changeSet, copy) === true);
          } catch (err) {
            // The change set does not apply: this copy is not the store's history. Never serve it.
            throw new DivergedError(err);
          }
          backoff = MIN_BACKOFF_MS;
          this.#settle();
          this.#source.applied?.(copy, epoch);
        }
        if (this.#closed) return;
      } catch (err) {
        if (this.#closed) return;
        if (err instanceof StoreEpochChangedError) {
          log?.warn(
            { err, store: this.#source.storeName },
            'the Redis store started anew: its copy is reloaded once this replica moves to the new epoch',
          );
          this.#rejectWaiters(err);
          await this.#untilEpochMoves(err.previousEpoch);
          continue;
        }
        if (err instanceof DivergedError) {
          log?.error(
            { err: err.cause, store: this.#source.storeName },
            "this replica's copy of the Redis store diverged from it: reloading it from the newest image",
          );
          this.#copy = undefined;
          await pause(backoff);
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
          continue;
        }
        if (err instanceof ChangelogTruncatedError) {
          log?.info(
            { store: this.#source.storeName, reason: err.message },
            "reloading this replica's copy of the Redis store from its newest image",
          );
          const before = this.#copy?.latestRevision ?? -1;
          await this.#load().catch((loadErr: unknown) => this.#failed(loadErr));
          // Loaded nothing newer: the image is not past the trim point yet; do not spin.
          if ((this.#copy?.latestRevision ?? -1) <= before) {
            await pause(backoff);
            backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
          }
          continue;
        }
        this.#failed(err);
        await pause(backoff);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  #failed(err: unknown): void {
    this.#source.logger?.warn(
      { err, store: this.#source.storeName },
      "this replica's copy of the Redis store stopped following it; retrying",
    );
  }

  /** While held, the mirror neither applies a change nor replaces its copy. */
  async #whileHeld(): Promise<void> {
    while (this.#holds > 0 && !this.#closed) await new Promise<void>((resolve) => this.#resume.push(resolve));
  }

  async #load(): Promise<void> {
    await this.#whileHeld();
    const epoch = this.#source.epoch();
    const copy = await this.#source.load(epoch);
    if (this.#closed) return;
    this.#copy = copy;
    this.#copyEpoch = epoch;
    this.#settle();
  }

  #settle(): void {
    const copy = this.#copy;
    if (copy === undefined || this.#waiters.length === 0) return;
    const revision = copy.latestRevision;
    this.#waiters = this.#waiters.filter((w) => {
      if (w.epoch !== this.#copyEpoch || w.revision > revision) return true;
      clearTimeout(w.timer);
      w.resolve(copy);
      return false;
    });
  }

  /** Waiters for revisions of the epoch the store left will never be served (those of a newer one will). */
  #rejectWaiters(err: StoreEpochChangedError): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (w.epoch !== err.previousEpoch) return true;
      clearTimeout(w.timer);
      w.reject(err);
      return false;
    });
  }

  /** Until the store instance has moved on from `left` (the epoch whose data started anew). */
  async #untilEpochMoves(left: string): Promise<void> {
    while (!this.#closed && this.#source.epoch() === left) {
      await new Promise<void>((resolve) => {
        this.#epochMoved = resolve;
        // Also looks again now and then, whoever moved it.
        setTimeout(resolve, MAX_BACKOFF_MS).unref();
      });
      this.#epochMoved = undefined;
    }
  }
}
