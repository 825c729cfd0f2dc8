// Pending waits for the local graph to reach a revision, each bounded by its caller's deadline.
import { DeadlineExceededError, UnavailableError } from '../errors.js';
import type { Revision } from '../store/store.js';

interface Waiter {
  readonly revision: Revision;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Resolves waits as `advance` reports newer revisions; few waiters at a time, so a list suffices. */
export class RevisionWaiters {
  #waiters: Waiter[] = [];

  /** Resolve once `advance` reaches `revision`; reject with DeadlineExceededError at `deadline` (ms epoch). */
  wait(revision: Revision, current: Revision, deadline: number): Promise<void> {
    if (current >= revision) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const ms = Math.max(0, deadline - Date.now());
      const timer = setTimeout(() => {
        this.#remove(waiter);
        reject(
          new DeadlineExceededError(
            `the deadline passed while waiting for revision ${revision} (this replica is behind it): retry with a longer deadline or with minimize_latency`,
          ),
        );
      }, ms);
      const waiter: Waiter = { revision, resolve, reject, timer };
      this.#waiters.push(waiter);
    });
  }

  /** The graph now stands at `revision`: release every wait it satisfies. */
  advance(revision: Revision): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.revision <= revision) {
        clearTimeout(w.timer);
        w.resolve();
      } else {
        still.push(w);
      }
    }
    this.#waiters = still;
  }

  /** Fail every pending wait (shutdown). */
  rejectAll(reason: string): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new UnavailableError(reason));
    }
    this.#waiters = [];
  }

  get size(): number {
    return this.#waiters.length;
  }

  #remove(waiter: Waiter): void {
    this.#waiters = this.#waiters.filter((w) => w !== waiter);
  }
}
