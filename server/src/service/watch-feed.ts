// An async iterator over committed revisions for one Watch caller, with a bounded buffer so a
// slow consumer ends its own stream (RESOURCE_EXHAUSTED) instead of growing memory without bound.
import { LimitExceededError } from '../errors.js';
import type { WatchEvent } from './requests.js';

export class WatchFeed implements AsyncIterableIterator<WatchEvent> {
  readonly #maxBuffered: number;
  #buffer: WatchEvent[] = [];
  #pending: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: Error) => void } | undefined;
  #error: Error | undefined;
  #done = false;
  #onClose: (() => void) | undefined;

  constructor(maxBuffered: number) {
    this.#maxBuffered = maxBuffered;
  }

  /** Called once when the feed ends for any reason: the place to unsubscribe from the store. */
  set onClose(fn: () => void) {
    this.#onClose = fn;
  }

  push(event: WatchEvent): void {
    if (this.#done) return;
    if (this.#pending !== undefined) {
      const p = this.#pending;
      this.#pending = undefined;
      p.resolve({ value: event, done: false });
      return;
    }
    if (this.#buffer.length >= this.#maxBuffered) {
      this.fail(
        new LimitExceededError(
          `watch consumer fell ${this.#maxBuffered} revisions behind: read the stream faster, then resume from the last token`,
        ),
      );
      return;
    }
    this.#buffer.push(event);
  }

  /** End the feed with an error, delivered after the events already buffered. */
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

  next(): Promise<IteratorResult<WatchEvent>> {
    const head = this.#buffer.shift();
    if (head !== undefined) return Promise.resolve({ value: head, done: false });
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

  /** Stop: the consumer went away (client cancelled, `break` in for-await). */
  return(): Promise<IteratorResult<WatchEvent>> {
    this.#buffer = [];
    this.#error = undefined;
    this.#finish();
    if (this.#pending !== undefined) {
      this.#pending.resolve({ value: undefined, done: true });
      this.#pending = undefined;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#onClose?.();
  }
}
