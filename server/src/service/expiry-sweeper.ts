// Removes expired relationships from the store in the background, as ordinary deletes (so with
// Redis they reach every replica through the changelog). Correctness does not wait for it: the
// engine already ignores a relationship from the instant it expires; this only reclaims space.
import { Counter, type Registry } from 'prom-client';
import { FailedPreconditionError } from '../errors.js';
import type { Relationship } from '../model/relationship.js';
import type { Logger } from '../observability/logger.js';
import type { Revision, Store } from '../store/store.js';

/** What the sweeper needs of a store: paged reads and writes with expectRevision. */
export type SweptStore = Pick<Store, 'read' | 'write'>;

export interface ExpirySweeperOptions {
  readonly store: SweptStore;
  /** Time between the end of one sweep and the start of the next; 0 disables the timer. */
  readonly intervalMs: number;
  /** Most relationships one sweep deletes (one write). Default 500. */
  readonly batchSize?: number | undefined;
  /** Most relationships one sweep reads; the next sweep resumes after them. Default 20 × batchSize. */
  readonly scanLimit?: number | undefined;
  /** The clock expiry is judged by (ms since the epoch); tests inject one. */
  readonly now?: (() => number) | undefined;
  readonly logger?: Logger | undefined;
}

export const DEFAULT_SWEEP_BATCH_SIZE = 500;
const PAGE_SIZE = 1000;
/** Tries per sweep when writes keep moving the store between its read and its delete. */
const MAX_ATTEMPTS = 3;

/** Expired relationships found in one consistent scan, and where the scan stopped. */
interface Scan {
  readonly expired: readonly Relationship[];
  /** The revision every page of the scan was read at. */
  readonly revision: Revision | undefined;
  /** Where the next sweep resumes; undefined: from the start. */
  readonly resumeAt: string | undefined;
}

/**
 * Each sweep reads up to `scanLimit` relationships from where the last one stopped (wrapping
 * around at the end), and deletes those expired by `now()`, at most `batchSize`, in one write with
 * `expectRevision` set to the revision they were read at: a relationship renewed in the meantime
 * (touched with a later expiry, or without one) makes the write fail instead of deleting it, and
 * the sweep reads again. Sweeps never overlap.
 */
export class ExpirySweeper {
  /** Relationships removed since start. */
  removed = 0;
  readonly #store: SweptStore;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #scanLimit: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  #cursor: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopped = false;

  constructor(options: ExpirySweeperOptions) {
    this.#store = options.store;
    this.#intervalMs = options.intervalMs;
    this.#batchSize = Math.max(1, options.batchSize ?? DEFAULT_SWEEP_BATCH_SIZE);
    this.#scanLimit = Math.max(this.#batchSize, options.scanLimit ?? this.#batchSize * 20);
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
  }

  /** Sweep every `intervalMs` until stop(); the timer never keeps the process alive. */
  start(): void {
    if (this.#intervalMs <= 0 || this.#stopped) return;
    this.#schedule();
  }

  /** Stop the timer and wait for a sweep in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One sweep now (or the one already running): how many relationships it removed. */
  sweep(): Promise<number> {
    this.#running ??= this.#sweepOnce().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.sweep()
        .catch((err: unknown) => this.#logger?.warn({ err }, 'expiry sweep failed; retrying next interval'))
        .finally(() => {
          if (!this.#stopped) this.#schedule();
        });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async #sweepOnce(): Promise<number> {
    const start = this.#cursor;
    for (let attempt = 1; ; attempt++) {
      const now = this.#now();
      const scan = await this.#scan(start, now);
      if (scan.expired.length === 0) {
        this.#cursor = scan.resumeAt;
        return 0;
      }
      try {
        await this.#store.write(
          scan.expired.map((relationship) => ({ operation: 'delete', relationship })),
          [],
          { expectRevision: scan.revision },
        );
      } catch (err) {
        // The store moved on between the read and the delete: read again, never delete blind.
        if (err instanceof FailedPreconditionError && attempt < MAX_ATTEMPTS) continue;
        throw err;
      }
      this.#cursor = scan.resumeAt;
      this.removed += scan.expired.length;
      this.#logger?.debug({ removed: scan.expired.length }, 'expired relationships removed');
      return scan.expired.length;
    }
  }

  /** Pages from `start`, all at one revision, until the batch or the scan limit is full or the end. */
  async #scan(start: string | undefined, now: number): Promise<Scan> {
    const expired: Relationship[] = [];
    let revision: Revision | undefined;
    let cursor = start;
    let scanned = 0;
    while (scanned < this.#scanLimit && expired.length < this.#batchSize) {
      const limit = Math.min(PAGE_SIZE, this.#scanLimit - scanned);
      const page = await this.#store.read({}, { limit, cursor });
      // A page read at a later revision may sit after a write that renewed something already
      // collected: stop here and let the next sweep continue from this page.
      if (revision !== undefined && page.revision !== revision)
        return { expired, revision, resumeAt: cursor };
      revision = page.revision;
      for (const r of page.relationships) {
        scanned++;
        if (r.expiresAt !== undefined && r.expiresAt <= now) {
          expired.push(r);
          if (expired.length === this.#batchSize) break;
        }
      }
      if (expired.length === this.#batchSize) {
        // Resume right after the last one collected: a fresh read from the key before it.
        return { expired, revision, resumeAt: cursor };
      }
      cursor = page.nextCursor;
      if (cursor === undefined) return { expired, revision, resumeAt: undefined };
    }
    return { expired, revision, resumeAt: cursor };
  }
}

/** `gatehouse_expired_relationships_removed_total`, read from the sweeper at scrape time. */
export function registerExpirySweeperMetrics(registry: Registry, sweeper: ExpirySweeper): void {
  new Counter({
    name: 'gatehouse_expired_relationships_removed_total',
    help: 'Expired relationships removed from the store by the background sweeper.',
    registers: [registry],
    collect() {
      this.reset();
      if (sweeper.removed > 0) this.inc(sweeper.removed);
    },
  });
}
