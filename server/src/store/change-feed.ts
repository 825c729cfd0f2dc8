// The memory store's changelog: a bounded window of recent revisions and the watchers that
// receive them, each exactly once and in revision order, even when a listener writes to the
// store or subscribes another watcher while it is being called. Retained revisions are kept
// packed (seven numbers a change, see ChangeCodec) and rebuilt as ChangeSets only for replay,
// so a window holding a million loaded relationships costs megabytes, not objects.
import { ChangelogTruncatedError } from '../errors.js';
import type { ChangeSet, RelationshipChange, Revision } from './store.js';

export type Unsubscribe = () => void;

export type ListenerErrorHandler = (error: unknown, revision: Revision) => void;

/** Turns retained packed changes back into changes, and lets go of what they refer to. */
export interface ChangeCodec {
  unpack(packed: Int32Array): RelationshipChange[];
  releasePacked(packed: Int32Array): void;
}

/**
 * A retained revision whose changes its owner rebuilds on demand (the memory store's startup
 * load, see LoadedRevision) instead of a packed copy; `release` once it leaves the window.
 */
export interface DeferredChanges {
  changes(): RelationshipChange[];
  release(): void;
}

type Retained = Int32Array | DeferredChanges;

/** What a retention of 0, or a revision without changes, keeps. */
export const NO_CHANGES = new Int32Array(0);

interface Subscription {
  readonly listener: (change: ChangeSet) => void;
  /** The highest revision this subscription has been handed: the guard against duplicates. */
  delivered: Revision;
  active: boolean;
}

export class ChangeFeed {
  /** Retained revisions' packed changes live in entries[start..]; the dead prefix is dropped in bulk. */
  private entries: Retained[] = [];
  /** Commit times, parallel to `entries` (NaN when unknown). */
  private times: number[] = [];
  private start = 0;
  private latest: Revision;
  private readonly subscriptions = new Set<Subscription>();
  /** Commits made while listeners run wait here, so every watcher sees revisions in order. */
  private readonly pending: ChangeSet[] = [];
  private delivering = false;

  constructor(
    private readonly retention: number,
    private readonly codec: ChangeCodec,
    private readonly onListenerError: ListenerErrorHandler,
    initialRevision: Revision = 0,
  ) {
    this.latest = initialRevision;
  }

  /** False when nothing is kept for replay: committers need not pack their changes. */
  get retains(): boolean {
    return this.retention > 0;
  }

  /** The oldest revision `subscribe` can replay from: watching after `oldestWatchable()` works. */
  oldestWatchable(): Revision {
    return this.latest - (this.entries.length - this.start);
  }

  /**
   * Records the next revision (revisions must be consecutive), taking ownership of its packed
   * changes, and delivers it: as `change` when given, else rebuilt from `packed` if anyone listens.
   */
  append(revision: Revision, packed: Retained, change?: ChangeSet): void {
    this.latest = revision;
    this.entries.push(packed);
    this.times.push(change?.committedAt ?? Number.NaN);
    if (this.entries.length - this.start > this.retention) this.dropOldest();
    // Compact only when the dead prefix dominates, so trimming stays amortised O(1).
    if (this.start >= 1024 && this.start * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.times = this.times.slice(this.start);
      this.start = 0;
    }
    if (change === undefined && this.subscriptions.size === 0) return;
    this.pending.push(change ?? this.rebuild(revision, packed));
    this.drain();
  }

  /** Replays retained ChangeSets after `after`, then keeps delivering. `after` must be <= latest. */
  subscribe(after: Revision, listener: (change: ChangeSet) => void): Unsubscribe {
    const oldest = this.oldestWatchable();
    if (after < oldest) {
      throw new ChangelogTruncatedError(
        `cannot watch after revision ${after}: the changelog only retains revisions after ${oldest}; take a snapshot and watch from its revision`,
        oldest,
      );
    }
    const sub: Subscription = { listener, delivered: after, active: true };
    this.subscriptions.add(sub);
    // Rebuild first: commits a listener makes during replay land in `pending`, delivered after,
    // and may trim (and release) the entries being replayed.
    const first = this.start + (after - oldest);
    const replay = this.entries
      .slice(first)
      .map((packed, i) => this.rebuild(after + 1 + i, packed, this.times[first + i]));
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

  private dropOldest(): void {
    const oldest = this.entries[this.start] as Retained;
    if (oldest instanceof Int32Array) this.codec.releasePacked(oldest);
    else oldest.release();
    this.entries[this.start] = NO_CHANGES;
    this.start++;
  }

  close(): void {
    for (const sub of this.subscriptions) sub.active = false;
    this.subscriptions.clear();
    this.pending.length = 0;
  }

  private rebuild(revision: Revision, packed: Retained, committedAt?: number): ChangeSet {
    const changes = Object.freeze(
      packed instanceof Int32Array ? this.codec.unpack(packed) : packed.changes(),
    );
    if (committedAt === undefined || Number.isNaN(committedAt)) return Object.freeze({ revision, changes });
    return Object.freeze({ revision, changes, committedAt });
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
