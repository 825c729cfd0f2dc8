// Coalesces calls made in the same event-loop turn into batches, grouped by a key and split by size.

/** One queued call: its input and how to settle its promise. */
export interface BatchEntry<I, R> {
  readonly item: I;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/** Runs `flush` once after the current turn's synchronous code and microtasks. */
export type Scheduler = (flush: () => void) => void;

const nextTurn: Scheduler =
  typeof setImmediate === 'function'
    ? (flush) => void setImmediate(flush)
    : (flush) => void setTimeout(flush, 0);

/**
 * Queues items and hands them to `dispatch` in groups: every item added before the scheduled
 * flush with the same key goes into one group (order preserved), split into chunks of at most
 * `maxBatchSize`. `dispatch` must settle every entry it receives.
 */
export class MicroBatcher<I, R> {
  readonly #queues = new Map<string, BatchEntry<I, R>[]>();
  #scheduled = false;
  readonly #dispatch: (key: string, entries: readonly BatchEntry<I, R>[]) => void;
  readonly #maxBatchSize: number;
  readonly #schedule: Scheduler;

  constructor(
    dispatch: (key: string, entries: readonly BatchEntry<I, R>[]) => void,
    maxBatchSize: number,
    schedule: Scheduler = nextTurn,
  ) {
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
    }
    this.#dispatch = dispatch;
    this.#maxBatchSize = maxBatchSize;
    this.#schedule = schedule;
  }

  /** Queue `item` under `key`; resolves with what `dispatch` settles it with. */
  add(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let queue = this.#queues.get(key);
      if (queue === undefined) {
        queue = [];
        this.#queues.set(key, queue);
      }
      queue.push({ item, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#schedule(() => this.#flush());
      }
    });
  }

  /** Dispatch every queued item now instead of at the scheduled turn (e.g. before closing). */
  flush(): void {
    if (this.#scheduled) this.#flush();
  }

  #flush(): void {
    this.#scheduled = false;
    const queues = [...this.#queues];
    this.#queues.clear();
    for (const [key, entries] of queues) {
      for (let start = 0; start < entries.length; start += this.#maxBatchSize) {
        const chunk = entries.slice(start, start + this.#maxBatchSize);
        try {
          this.#dispatch(key, chunk);
        } catch (err) {
          for (const entry of chunk) entry.reject(err);
        }
      }
    }
  }
}
