// The memory store's changelog: a bounded window of recent ChangeSets and the watchers that
// receive them, each exactly once and in revision order, even when a listener writes to the
// store or subscribes another watcher while it is being called.
import { FailedPreconditionError } from '../errors.js';
import type { ChangeSet, Revision, Unsubscribe } from './store.js';

export type ListenerErrorHandler = (error: unknown, revision: Revision) => void;

interface Subscription {
  readonly listener: (change: ChangeSet) => void;
  /** The highest revision this subscription has been handed: the guard against duplicates. */
  delivered: Revision;
  active: boolean;
}

export class ChangeFeed {
  /** Retained ChangeSets live in entries[start..]; the dead prefix is dropped in bulk. */
  private entries: ChangeSet[] = [];
  private start = 0;
  private latest: Revision;
  private readonly subscriptions = new Set<Subscription>();
  /** Commits made while listeners run wait here, so every watcher sees revisions in order. */
  private readonly pending: ChangeSet[] = [];
  private delivering = false;

  constructor(
    private readonly retention: number,
    private readonly onListenerError: ListenerErrorHandler,
    initialRevision: Revision = 0,
  ) {
    this.latest = initialRevision;
  }

  /** The oldest revision `subscribe` can replay from: watching after `oldestWatchable()` works. */
  oldestWatchable(): Revision {
    return this.latest - (this.entries.length - this.start);
  }

  /** Records a committed ChangeSet (revisions must be consecutive) and delivers it. */
  append(change: ChangeSet): void {
    this.latest = change.revision;
    this.entries.push(change);
    if (this.entries.length - this.start > this.retention) this.start++;
    // Compact only when the dead prefix dominates, so trimming stays amortised O(1).
    if (this.start >= 1024 && this.start * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
    this.pending.push(change);
    this.drain();
  }

  /** Replays retained ChangeSets after `after`, then keeps delivering. `after` must be <= latest. */
  subscribe(after: Revision, listener: (change: ChangeSet) => void): Unsubscribe {
    const oldest = this.oldestWatchable();
    if (after < oldest) {
      throw new FailedPreconditionError(
        `cannot watch after revision ${after}: the changelog only retains revisions after ${oldest}; take a snapshot and watch from its revision`,
        { field: 'after' },
      );
    }
    const sub: Subscription = { listener, delivered: after, active: true };
    this.subscriptions.add(sub);
    // Copy first: commits a listener makes during replay land in `pending`, delivered after.
    const replay = this.entries.slice(this.start + (after - oldest));
    const nested = this.delivering;
    this.delivering = true;
    try {
      for (const change of replay) this.deliver(sub, change);
    } finally {
      if (!nested) {
        this.delivering = false;
        this.drain();
      }
    }
    return () => {
      sub.active = false;
      this.subscriptions.delete(sub);
    };
  }

  close(): void {
    for (const sub of this.subscriptions) sub.active = false;
    this.subscriptions.clear();
    this.pending.length = 0;
  }

  private drain(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let i = 0; i < this.pending.length; i++) {
        const change = this.pending[i] as ChangeSet;
        for (const sub of [...this.subscriptions]) this.deliver(sub, change);
      }
    } finally {
      this.pending.length = 0;
      this.delivering = false;
    }
  }

  private deliver(sub: Subscription, change: ChangeSet): void {
    if (!sub.active || change.revision <= sub.delivered) return;
    sub.delivered = change.revision;
    try {
      sub.listener(change);
    } catch (error) {
      // A faulty watcher must not abort the commit or starve the others; its owner hears about it.
      try {
        this.onListenerError(error, change.revision);
      } catch {
        // The error handler itself failed: nothing sensible is left to tell, and the commit stands.
      }
    }
  }
}
