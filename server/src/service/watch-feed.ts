// One Watch caller's feed of committed revisions. A slow consumer ends its own stream
// (RESOURCE_EXHAUSTED) instead of growing the server's memory without bound; it resumes from
// the last token it read.
import { BoundedQueue } from '../bounded-queue.js';
import { LimitExceededError } from '../errors.js';
import type { WatchEvent } from './requests.js';

export class WatchFeed extends BoundedQueue<WatchEvent> {
  constructor(maxBuffered: number) {
    super(
      maxBuffered,
      (_event, max) =>
        new LimitExceededError(
          `watch consumer fell ${max} revisions behind: read the stream faster, then resume from the last token`,
        ),
    );
  }

  /** Called once when the feed ends for any reason: the place to unsubscribe from the store. */
  set onClose(fn: () => void) {
    this.onEnd = fn;
  }
}
