// RedisStore.watch: each watcher follows the store's change feed (a pub/sub channel the write
// scripts publish every change set on) and keeps a second connection for commands, used only to
// read the changelog stream when the feed leaves a gap (revisions committed before the watcher
// subscribed, or a message the feed did not bring) and to check the store's epoch and revision
// when nothing has arrived for a while, so a Redis that lost its data (FLUSHALL, a restart
// without persistence) is reported even when nobody writes. Why a feed rather than a blocking
// XREAD per change: each XREAD re-issued after a change costs the replica a socket send and
// Redis a command, per replica and per change; a feed message costs neither.
// A lost connection ends the iteration with UnavailableError; the caller retries from its last
// applied revision.
// Change sets the same RedisStore commits are delivered as soon as their write is answered
// (when they continue the sequence); the feed's and the changelog's copies of revisions already
// delivered are skipped, so each revision comes once, in order.
import type { ChangeSet, Revision } from '../store.js';
import { checkWatchRevision } from '../store-arguments.js';
import {
  decodeEntries,
  epochChanged,
  type FeedMessage,
  parseFeedMessage,
  type StreamEntry,
} from './redis-changelog.js';
import { type RedisClient, unavailable } from './redis-connection.js';
import { decodeChanges, type StoreKeys } from './redis-layout.js';

export interface WatchParams {
  readonly storeName: string;
  readonly keys: StoreKeys;
  /** The epoch the caller's revisions belong to. */
  readonly epoch: string;
  readonly after: Revision;
  readonly signal?: AbortSignal | undefined;
  /** Opens one of the watcher's two connections (no reconnects: a loss ends the watch). */
  readonly open: () => Promise<RedisClient>;
  /**
   * The change feed is a sharded channel (a Cluster's: SPUBLISH): followed by SSUBSCRIBE on the
   * connection `openFeed` opens, to the master that owns the store's slot. Otherwise the feed is
   * a classic channel followed by SUBSCRIBE on a second `open()` connection.
   */
  readonly shardedFeed?: { readonly openFeed: () => Promise<RedisClient> } | undefined;
  /** How long the watcher waits with nothing new before it checks the store's epoch and revision. */
  readonly blockMs: number;
  /** Entries fetched per changelog read. */
  readonly batch: number;
  /**
   * The store instance's writer id, which its commits' feed messages name. The feed often brings
   * such a commit before its reply does (Redis sends both at once); the reply brings the change
   * set decoded already, and planned on the mirror's copy, which then applies it unchecked.
   * Decoding and checking the message instead cost a bulk load about a tenth of its client CPU.
   * So the message waits up to `ownReplyWaitMs` for the reply; one that never comes (its
   * connection lost) leaves the message to be decoded after that.
   */
  readonly writer?: string | undefined;
  readonly ownReplyWaitMs?: number | undefined;
  /** The highest revision the store instance has seen in this epoch, and telling it of a new one. */
  readonly highWater: () => Revision;
  readonly saw: (revision: Revision) => void;
  /** Called when the store is below a revision it reported: replaces the epoch, returns the error. */
  readonly rolledBack: (epoch: string, seen: Revision) => Promise<Error>;
  /** Registers a listener for the change sets this store instance commits; returns its removal. */
  readonly subscribe?: ((listener: CommitListener) => () => void) | undefined;
  /**
   * Told when Redis refuses the feed subscription (NOPERM: an ACL user without the channel); the
   * watcher then waits in a blocking changelog read instead, one command per change.
   */
  readonly feedRefused?: ((err: unknown) => void) | undefined;
}

/** Told of each change set the store instance committed, with the epoch it was committed in. */
export type CommitListener = (epoch: string, changeSet: ChangeSet) => void;

type XReadReply = [key: string, entries: StreamEntry[]][] | null;

/**
 * Change sets held while an earlier revision is still on its way, in characters of their change
 * lines (own commits counted at ~100 per change); beyond this they are dropped and the changelog
 * brings them. Bounds a watcher's memory while it catches up on a long changelog.
 */
const MAX_AHEAD_CHARS = 8 * 1024 * 1024;

/** A change set held until the sequence reaches it: an own commit, or a feed message decoded on delivery. */
type Held = ChangeSet | FeedChanges;
type FeedChanges = FeedMessage & {
  readonly changes: string;
  /** For an own commit's message: until when it waits for the commit's reply (ms since the epoch). */
  readonly replyDue?: number | undefined;
};

/** When a held feed message of an own commit stops waiting for its reply; undefined for anything else. */
function replyDueOf(held: Held): number | undefined {
  return typeof held.changes === 'string' ? (held as FeedChanges).replyDue : undefined;
}

/** What a held change set counts against MAX_AHEAD_CHARS. */
function heldChars(held: Held): number {
  return typeof held.changes === 'string' ? held.changes.length : held.changes.length * 100;
}

export async function* watchChangelog(p: WatchParams): AsyncGenerator<ChangeSet, void, undefined> {
  checkWatchRevision(p.after, Number.MAX_SAFE_INTEGER);
  if (aborted(p)) return;
  const conn = await p.open();
  let feed: RedisClient | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const stop = (): void => {
    conn.disconnect();
    feed?.disconnect();
    poke(); // a watcher waiting for the feed ends now
  };
  let unsubscribe: (() => void) | undefined;
  p.signal?.addEventListener('abort', stop, { once: true });
  try {
    let last = p.after;
    const ahead = new Map<Revision, Held>();
    let aheadChars = 0;
    /** The highest revision the feed brought: every lower one it did not bring needs the changelog. */
    let feedHigh = 0;
    let needRead = false;
    /** Why the watch must end, found by a listener between turns of the loop. */
    let failure: Error | undefined;
    const hold = (held: Held): void => {
      if (held.revision <= last) return;
      const before = ahead.get(held.revision);
      // The feed often brings an own commit before its reply does: the commit's change set, decoded
      // already (and planned on the mirror's copy, which then applies it unchecked), replaces the
      // feed's text of it. Anything else held first stays.
      if (before !== undefined && (typeof before.changes !== 'string' || typeof held.changes === 'string')) {
        return;
      }
      const chars = heldChars(held) - (before === undefined ? 0 : heldChars(before));
      if (aheadChars + chars > MAX_AHEAD_CHARS) return;
      ahead.set(held.revision, held);
      aheadChars += chars;
    };

    // Subscribe before reading where the store stands, so nothing committed after that read is missed.
    feed = await (p.shardedFeed?.openFeed ?? p.open)();
    if (aborted(p)) return;
    feed.on(p.shardedFeed === undefined ? 'message' : 'smessage', (_channel: string, message: string) => {
      const m = parseFeedMessage(message);
      if (m === undefined) needRead = true;
      else if (m.epoch !== p.epoch) failure ??= epochChanged(p.storeName, p.epoch, m.epoch);
      else {
        if (m.revision > feedHigh) feedHigh = m.revision;
        // A seed carries no changes: the changelog's entry for it says what to do (resync).
        if (m.changes === undefined) needRead = true;
        else if (m.writer !== undefined && m.writer === p.writer) {
          hold({ ...(m as FeedChanges), replyDue: Date.now() + (p.ownReplyWaitMs ?? 0) });
        } else hold(m as FeedChanges);
      }
      poke();
    });
    let following = true;
    try {
      await (p.shardedFeed === undefined
        ? feed.subscribe(p.keys.changeFeed)
        : feed.ssubscribe(p.keys.changeFeed));
      feed.on('end', () => {
        failure ??= unavailable(new Error('the change feed connection closed'), 'watching the changelog');
        poke();
      });
      // A sharded subscription ends when the store's slot moves to another master (Redis sends an
      // unsolicited SUNSUBSCRIBE, which ioredis reports as 'moved'): end the watch, so the caller's
      // next one subscribes where the slot now lives, instead of following by idle checks alone.
      feed.on('moved', () => {
        failure ??= unavailable(
          new Error("the store's Cluster slot moved to another master; subscribe again there"),
          'watching the changelog',
        );
        poke();
      });
    } catch (err) {
      if (aborted(p)) return;
      if (!/NOPERM/.test(err instanceof Error ? err.message : String(err)))
        throw unavailable(err, 'starting a watch');
      // The ACL user may not subscribe to the channel: follow the changelog alone (as before the
      // feed existed), and say so.
      following = false;
      feed.disconnect();
      p.feedRefused?.(err);
    }

    const start = await stateOf(conn, p, 'starting a watch');
    if (start === undefined) return;
    const [rev, epoch] = start;
    if (epoch !== p.epoch) throw epochChanged(p.storeName, p.epoch, epoch);
    // Asking for a revision this store reported but no longer has: it lost writes.
    if (p.after > rev && p.after <= p.highWater()) throw await p.rolledBack(p.epoch, p.after);
    checkWatchRevision(p.after, rev);
    needRead = rev > last;
    unsubscribe = p.subscribe?.((epoch, changeSet) => {
      if (epoch !== p.epoch) return;
      hold(changeSet);
      poke();
    });

    let checkedAt = Date.now();
    while (!aborted(p)) {
      if (failure !== undefined) throw failure;
      /** Set when the next revision is an own commit's feed message waiting for its reply. */
      let replyDue: number | undefined;
      for (let next = ahead.get(last + 1); next !== undefined; next = ahead.get(last + 1)) {
        const due = replyDueOf(next);
        if (due !== undefined && Date.now() < due) {
          replyDue = due;
          break;
        }
        ahead.delete(next.revision);
        aheadChars -= heldChars(next);
        const changeSet =
          typeof next.changes === 'string' ? fromFeed(next as FeedChanges) : (next as ChangeSet);
        if (aborted(p)) return;
        p.saw(changeSet.revision);
        yield changeSet;
        last = changeSet.revision;
        checkedAt = Date.now();
      }
      for (const [r, held] of ahead) {
        if (r > last) continue;
        ahead.delete(r);
        aheadChars -= heldChars(held);
      }
      // The feed is in commit order: a revision below one it brought, and not held, never comes.
      if (feedHigh > last && !ahead.has(last + 1)) needRead = true;
      if (needRead || !following) {
        // Without the feed (an ACL user without the channel), wait in the changelog read itself.
        const blocking = !needRead;
        needRead = false;
        const from = `${last}-0`;
        let reply: XReadReply;
        try {
          reply = (await (blocking
            ? conn.xread('COUNT', p.batch, 'BLOCK', p.blockMs, 'STREAMS', p.keys.changelog, from)
            : conn.xread('COUNT', p.batch, 'STREAMS', p.keys.changelog, from))) as XReadReply;
        } catch (err) {
          if (aborted(p)) return;
          throw unavailable(err, 'watching the changelog');
        }
        const entries = reply?.[0]?.[1] ?? [];
        // Read from `last` and awaited (nothing moves `last` meanwhile): every entry is past it.
        for (const changeSet of decodeEntries(p.storeName, p.epoch, last, entries)) {
          // A reply that raced with the abort is dropped: nothing is delivered after stop.
          if (aborted(p)) return;
          p.saw(changeSet.revision);
          yield changeSet;
          last = changeSet.revision;
        }
        checkedAt = Date.now();
        if (entries.length >= p.batch)
          needRead = true; // more where these came from
        // The scripts publish after appending, so a revision the feed named is in the changelog;
        // none past `last` means a message no script sent: forget it rather than read again.
        else if (!blocking && entries.length === 0) feedHigh = last;
        if (!blocking || reply !== null) continue;
      } else {
        // Wait for the feed or an own commit (or, for an own commit's feed message, until it
        // stops waiting for the reply). With nothing delivered for blockMs (an idle store, or a
        // gap the feed does not fill), ask the store where it stands.
        const idleAt = checkedAt + p.blockMs;
        const until = replyDue === undefined ? idleAt : Math.min(idleAt, replyDue);
        const woken = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(until < idleAt), Math.max(0, until - Date.now()));
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = undefined;
        if (woken) continue;
      }
      // Idle: a store that lost its data has no new changes to tell us so.
      const state = await stateOf(conn, p, 'watching the changelog');
      if (state === undefined) return;
      checkedAt = Date.now();
      const [now, current] = state;
      if (current !== p.epoch) throw epochChanged(p.storeName, p.epoch, current);
      if (now < last) throw await p.rolledBack(p.epoch, last);
      if (now > last) needRead = true;
    }
  } finally {
    unsubscribe?.();
    p.signal?.removeEventListener('abort', stop);
    conn.disconnect();
    feed?.disconnect();
  }
}

function fromFeed(m: FeedChanges): ChangeSet {
  return { revision: m.revision, changes: decodeChanges(m.changes), committedAt: m.committedAt };
}

/** The store's revision and epoch, or undefined when the watch was stopped meanwhile. */
async function stateOf(
  conn: RedisClient,
  p: WatchParams,
  doing: string,
): Promise<[Revision, string | null] | undefined> {
  try {
    const [rev, epoch] = await conn.mget(p.keys.revision, p.keys.epoch);
    return aborted(p) ? undefined : [Number(rev ?? 0), epoch ?? null];
  } catch (err) {
    if (aborted(p)) return undefined;
    throw unavailable(err, doing);
  }
}

/** Read through a call so TypeScript does not narrow it: an abort lands between awaits. */
function aborted(p: WatchParams): boolean {
  return p.signal?.aborted === true;
}
