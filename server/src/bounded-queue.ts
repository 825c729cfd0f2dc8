// A single-consumer async queue with a bounded buffer, consumed with for-await: a producer
// pushes as items arrive, the consumer pulls at its own pace. It ends normally when the consumer
// stops (`return()`, for-await `break`), on `end()`, or when its AbortSignal fires; it fails
// with a typed error after what is buffered. A consumer that falls `maxBuffered` items behind
// ends its own stream with the error `overflow` builds, instead of growing memory without bound.
// Shared by the store's watchers (WatchQueue) and the service's Watch callers (WatchFeed).

/** Builds the error a consumer gets when `item` finds the buffer full. */
export type OverflowError<T> = (item: T, maxBuffered: number) => Error;

export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  readonly #maxBuffered: number;
  readonly #overflow: OverflowError<T>;
  #buffer: T[] = [];
  #head = 0;
  #pending: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | undefined;
  #error: Error | undefined;
  #done = false;
  #onEnd: (() => void) | undefined;
  #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.end();

  /** `onEnd` runs once when the queue ends for any reason: where the producer unsubscribes. */
  constructor(maxBuffered: number, overflow: OverflowError<T>, signal?: AbortSignal, onEnd?: () => void) {
    this.#maxBuffered = maxBuffered;
    this.#overflow = overflow;
    this.#onEnd = onEnd;
    if (signal !== undefined) {
      this.#signal = signal;
      // Already aborted: ended from the start, and the producer never needs to hear of it.
      if (signal.aborted) this.#done = true;
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** Sets what runs once when the queue ends (replacing any given to the constructor). */
  set onEnd(fn: () => void) {
    this.#onEnd = fn;
  }

  /** Whether the consumer is still listening. */
  get active(): boolean {
    return !this.#done;
  }

  push(item: T): void {
    if (this.#done) return;
    if (this.#pending !== undefined) {
      const p = this.#pending;
      this.#pending = undefined;
      p.resolve({ value: item, done: false });
      return;
    }
    if (this.#buffer.length - this.#head >= this.#maxBuffered) {
      this.fail(this.#overflow(item, this.#maxBuffered));
      return;
    }
    this.#buffer.push(item);
  }

  /** End with `err`, delivered after the items already buffered. */
  fail(err: Error): void {
    if (this.#done) return;
    this.#finish();
    // A waiting consumer implies an empty buffer: hand it the error now; otherwise after the buffer.
    if (this.#pending !== undefined) {
      const p = this.#pending;
      this.#pending = undefined;
      p.reject(err);
    } else {
      this.#error = err;
    }
  }

  /** End normally, after the items already buffered. */
  end(): void {
    if (this.#done) return;
    this.#finish();
    if (this.#pending !== undefined) {
      const p = this.#pending;
      this.#pending = undefined;
      p.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#buffer[this.#head] as T;
      this.#buffer[this.#head++] = undefined as T;
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

  /** The consumer went away (client cancelled, `break` in for-await): drop what is buffered and end. */
  return(): Promise<IteratorResult<T>> {
    this.#buffer = [];
    this.#head = 0;
    this.#error = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
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
