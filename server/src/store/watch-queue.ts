// One watcher's queue of ChangeSets, consumed with for-await: a producer pushes as revisions
// commit, the consumer pulls at its own pace. Ends normally when the consumer stops or the
// AbortSignal fires; fails with a typed error (truncated, unavailable) after what is buffered.
// Bounded: a consumer that falls `maxBuffered` revisions behind gets ChangelogTruncatedError,
// exactly what it would get from a store whose changelog was trimmed behind it.
import { ChangelogTruncatedError } from '../errors.js';
import type { ChangeSet } from './store.js';

export class WatchQueue implements AsyncIterableIterator<ChangeSet> {
  readonly #maxBuffered: number;
  #buffer: ChangeSet[] = [];
  #head = 0;
  #pending: { resolve: (r: IteratorResult<ChangeSet>) => void; reject: (e: Error) => void } | undefined;
  #error: Error | undefined;
  #done = false;
  #onEnd: (() => void) | undefined;
  #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.end();

  /** `onEnd` runs once when the queue ends for any reason: where the producer unsubscribes. */
  constructor(maxBuffered: number, signal?: AbortSignal, onEnd?: () => void) {
    this.#maxBuffered = maxBuffered;
    this.#onEnd = onEnd;
    if (signal !== undefined) {
      this.#signal = signal;
      // Already aborted: ended from the start, and the producer never needs to hear of it.
      if (signal.aborted) this.#done = true;
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** Whether the consumer is still listening. */
  get active(): boolean {
    return !this.#done;
  }

  push(change: ChangeSet): void {
    if (this.#done) return;
    if (this.#pending !== undefined) {
      const p = this.#pending;
      this.#pending = undefined;
      p.resolve({ value: change, done: false });
      return;
    }
    if (this.#buffer.length - this.#head >= this.#maxBuffered) {
      this.fail(
        new ChangelogTruncatedError(
          `this watcher fell more than ${this.#maxBuffered} revisions behind (revision ${change.revision} could not be queued): resync from a snapshot`,
          change.revision,
        ),
      );
      return;
    }
    this.#buffer.push(change);
  }

  /** End with `err`, delivered after the ChangeSets already buffered. */
  fail(err: Error): void {
    if (this.#done) return;
    this.#finish();
    if (this.#pending !== undefined) {
      const p = this.#pending;
      this.#pending = undefined;
      p.reject(err);
    } else {
      this.#error = err;
    }
  }

  /** End normally, after the ChangeSets already buffered. */
  end(): void {
    if (this.#done) return;
    this.#finish();
    if (this.#pending !== undefined) {
      const p = this.#pending;
      this.#pending = undefined;
      p.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<ChangeSet>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#buffer[this.#head] as ChangeSet;
      this.#buffer[this.#head++] = undefined as unknown as ChangeSet;
      // Drop the consumed prefix in bulk so the queue stays amortised O(1).
      if (this.#head >= 1024 && this.#head * 2 >= this.#buffer.length) {
        this.#buffer = this.#buffer.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#error !== undefined) {
      const err = this.#error;
      this.#error = undefined;
      return Promise.reject(err);
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
    });
  }

  /** The consumer went away (`break` in for-await): drop what is buffered and end. */
  return(): Promise<IteratorResult<ChangeSet>> {
    this.#buffer = [];
    this.#head = 0;
    this.#error = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ChangeSet> {
    return this;
  }

  #finish(): void {
    this.#done = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#signal = undefined;
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    onEnd?.();
  }
}
