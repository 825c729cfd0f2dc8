// The Watch use case: every revision committed after a start token, as a bounded feed; the
// open feeds are kept so that shutdown can end them.
import type { ChangeSet, Revision } from '../store/store.js';
import { withDeadline } from './deadline.js';
import type { CallContext, WatchParams } from './requests.js';
import { decodeRevisionToken, encodeRevisionToken, tokenIdentityError } from './revision-token.js';
import type { UseCaseContext } from './use-case-context.js';
import { WatchFeed } from './watch-feed.js';

export class Watches {
  readonly #c: UseCaseContext;
  readonly #buffer: number;
  readonly #feeds = new Set<WatchFeed>();

  /** `buffer`: revisions a consumer may fall behind before its feed fails. */
  constructor(context: UseCaseContext, buffer: number) {
    this.#c = context;
    this.#buffer = buffer;
  }

  /** See GatehouseService.watch. */
  async watch(params: WatchParams, ctx: CallContext): Promise<WatchFeed> {
    const c = this.#c;
    c.auth.authorize(ctx, 'Watch');
    const g = c.generations.current;
    const identity = g.replica.identity;
    let after: Revision;
    if (params.startToken === undefined || params.startToken === '') {
      after = await withDeadline(c.store.revision(), ctx.deadline);
    } else {
      const token = decodeRevisionToken(params.startToken, 'optionalStartCursor.token');
      if (token.store !== identity.name || token.epoch !== identity.epoch) {
        throw tokenIdentityError(token, identity, 'optionalStartCursor.token');
      }
      after = token.revision;
    }
    const feed = new WatchFeed(this.#buffer);
    const stop = new AbortController();
    feed.onClose = () => {
      stop.abort();
      this.#feeds.delete(feed);
    };
    this.#feeds.add(feed);
    const changes = c.store.watch(after, stop.signal)[Symbol.asyncIterator]();
    const pump = async (first: Promise<IteratorResult<ChangeSet>>): Promise<void> => {
      try {
        for (let step = await first; !step.done; step = await changes.next()) {
          feed.push({
            changes: step.value.changes,
            token: encodeRevisionToken(step.value.revision, identity),
          });
        }
      } catch (err) {
        feed.fail(err instanceof Error ? err : new Error(String(err)));
      }
    };
    if (after >= g.replica.revision) {
      void pump(changes.next());
      return feed;
    }
    // A start token behind the local graph has changes to replay, so the store's first answer
    // (a ChangeSet, or the failure of a token too old) is due now: settle it before answering,
    // so the caller gets that failure as the call's own error rather than mid-stream.
    let first: IteratorResult<ChangeSet>;
    try {
      first = await withDeadline(changes.next(), ctx.deadline);
    } catch (err) {
      stop.abort();
      this.#feeds.delete(feed);
      throw err;
    }
    void pump(Promise.resolve(first));
    return feed;
  }

  /** End every open feed with `err` (shutdown). */
  failAll(err: Error): void {
    for (const feed of this.#feeds) feed.fail(err);
  }
}
