// RedisStore.watch: one dedicated connection per watcher, blocked in XREAD on the changelog.
// Between blocks it re-reads the epoch, so a Redis that lost its data (FLUSHALL, a restart
// without persistence) is reported even when nobody writes. A lost connection ends the
// iteration with UnavailableError; the caller retries from its last applied revision.
// Change sets the same RedisStore commits are delivered as soon as their write is answered
// (when they continue the sequence), without waiting for the XREAD that brings them too; the
// XREAD's copies of revisions already delivered are skipped, so each revision comes once, in order.
import type { ChangeSet, Revision } from '../store.js';
import { checkWatchRevision } from '../store-arguments.js';
import { decodeEntries, entryRevision, epochChanged, field, type StreamEntry } from './redis-changelog.js';
import { type RedisClient, unavailable } from './redis-connection.js';
import type { StoreKeys } from './redis-layout.js';

export interface WatchParams {
  readonly storeName: string;
  readonly keys: StoreKeys;
  /** The epoch the caller's revisions belong to. */
  readonly epoch: string;
  readonly after: Revision;
  readonly signal?: AbortSignal | undefined;
  /** Opens the watcher's own connection (no reconnects: a loss ends the watch). */
  readonly open: () => Promise<RedisClient>;
  /** How long one XREAD blocks before the epoch is checked again. */
  readonly blockMs: number;
  /** Entries fetched per XREAD. */
  readonly batch: number;
  /** The highest revision the store instance has seen in this epoch, and telling it of a new one. */
  readonly highWater: () => Revision;
  readonly saw: (revision: Revision) => void;
  /** Called when the store is below a revision it reported: replaces the epoch, returns the error. */
  readonly rolledBack: (epoch: string, seen: Revision) => Promise<Error>;
  /** Registers a listener for the change sets this store instance commits; returns its removal. */
  readonly subscribe?: ((listener: CommitListener) => () => void) | undefined;
}

/** Told of each change set the store instance committed, with the epoch it was committed in. */
export type CommitListener = (epoch: string, changeSet: ChangeSet) => void;

type XReadReply = [key: string, entries: StreamEntry[]][] | null;
type XReadOutcome = { readonly reply: XReadReply } | { readonly failed: unknown };

/** Own commits held while an earlier revision is still on its way; beyond this they are dropped (XREAD brings them). */
const MAX_AHEAD = 10_000;

export async function* watchChangelog(p: WatchParams): AsyncGenerator<ChangeSet, void, undefined> {
  checkWatchRevision(p.after, Number.MAX_SAFE_INTEGER);
  if (aborted(p)) return;
  const conn = await p.open();
  const stop = (): void => conn.disconnect();
  let unsubscribe: (() => void) | undefined;
  p.signal?.addEventListener('abort', stop, { once: true });
  try {
    const start = await stateOf(conn, p, 'starting a watch');
    if (start === undefined) return;
    const [rev, epoch] = start;
    if (epoch !== p.epoch) throw epochChanged(p.storeName, p.epoch, epoch);
    // Asking for a revision this store reported but no longer has: it lost writes.
    if (p.after > rev && p.after <= p.highWater()) throw await p.rolledBack(p.epoch, p.after);
    checkWatchRevision(p.after, rev);
    let last = p.after;
    // Own commits past `last`, by revision, until the sequence reaches them.
    const ahead = new Map<Revision, ChangeSet>();
    let wake: (() => void) | undefined;
    unsubscribe = p.subscribe?.((epoch, changeSet) => {
      if (epoch !== p.epoch || changeSet.revision <= last || ahead.size >= MAX_AHEAD) return;
      ahead.set(changeSet.revision, changeSet);
      const w = wake;
      wake = undefined;
      w?.();
    });
    let reading: Promise<XReadOutcome> | undefined;
    while (!aborted(p)) {
      for (let next = ahead.get(last + 1); next !== undefined; next = ahead.get(last + 1)) {
        ahead.delete(next.revision);
        if (aborted(p)) return;
        p.saw(next.revision);
        yield next;
        last = next.revision;
      }
      for (const r of ahead.keys()) if (r <= last) ahead.delete(r);
      if (reading === undefined) {
        reading = conn
          .xread('COUNT', p.batch, 'BLOCK', p.blockMs, 'STREAMS', p.keys.changelog, `${last}-0`)
          .then(
            (reply) => ({ reply: reply as XReadReply }),
            (failed: unknown) => ({ failed }),
          );
      }
      const woken = new Promise<undefined>((resolve) => {
        wake = () => resolve(undefined);
      });
      const outcome = await Promise.race([reading, woken]);
      wake = undefined;
      // An own commit arrived first: deliver it; the XREAD stays in flight.
      if (outcome === undefined) continue;
      reading = undefined;
      if ('failed' in outcome) {
        if (aborted(p)) return;
        throw unavailable(outcome.failed, 'watching the changelog');
      }
      const { reply } = outcome;
      if (reply === null) {
        // Idle: a store that lost its data has no new entries to tell us so.
        const state = await stateOf(conn, p, 'watching the changelog');
        if (state === undefined) return;
        const [now, current] = state;
        if (current !== p.epoch) throw epochChanged(p.storeName, p.epoch, current);
        if (now < last) throw await p.rolledBack(p.epoch, last);
        continue;
      }
      for (const changeSet of decodeEntries(
        p.storeName,
        p.epoch,
        last,
        unseen(p, last, reply[0]?.[1] ?? []),
      )) {
        // A reply that raced with the abort is dropped: nothing is delivered after stop.
        if (aborted(p)) return;
        p.saw(changeSet.revision);
        yield changeSet;
        last = changeSet.revision;
      }
    }
  } finally {
    unsubscribe?.();
    p.signal?.removeEventListener('abort', stop);
    conn.disconnect();
  }
}

/**
 * The entries after `last`: those up to it were delivered already (own commits) and are only
 * checked for their epoch. An XREAD issued before own commits moved `last` on starts earlier.
 */
function unseen(p: WatchParams, last: Revision, entries: readonly StreamEntry[]): readonly StreamEntry[] {
  let k = 0;
  while (k < entries.length && entryRevision(entries[k] as StreamEntry) <= last) {
    const e = field((entries[k] as StreamEntry)[1], 'e');
    if (e !== p.epoch) throw epochChanged(p.storeName, p.epoch, e);
    k++;
  }
  return k === 0 ? entries : entries.slice(k);
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
