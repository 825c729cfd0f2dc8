// One store watcher's queue of ChangeSets. A consumer that falls `maxBuffered` revisions behind
// gets ChangelogTruncatedError, exactly what it would get from a store whose changelog was
// trimmed behind it (and so it resyncs from a snapshot).
import { BoundedQueue } from '../bounded-queue.js';
import { ChangelogTruncatedError } from '../errors.js';
import type { ChangeSet } from './store.js';

export class WatchQueue extends BoundedQueue<ChangeSet> {
  constructor(maxBuffered: number, signal?: AbortSignal, onEnd?: () => void) {
    super(
      maxBuffered,
      (change, max) =>
        new ChangelogTruncatedError(
          `this watcher fell more than ${max} revisions behind (revision ${change.revision} could not be queued): resync from a snapshot`,
          change.revision,
        ),
      signal,
      onEnd,
    );
  }
}
