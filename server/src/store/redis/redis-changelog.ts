// Reading the changelog stream: entries become ChangeSets, and a gap before the entry a
// reader expects next means the stream was trimmed behind it (ChangelogTruncatedError), an
// entry stamped with another epoch means the data started anew (StoreEpochChangedError).
import { ChangelogTruncatedError, StoreEpochChangedError } from '../../errors.js';
import type { ChangeSet, Revision } from '../store.js';
import { decodeChanges } from './redis-layout.js';

/** A stream entry as ioredis returns it: [id, [field, value, ...]]. */
export type StreamEntry = [id: string, fields: string[]];

export function entryRevision(entry: StreamEntry): Revision {
  const id = entry[0];
  return Number(id.slice(0, id.indexOf('-')));
}

export function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

export function epochChanged(
  storeName: string,
  previous: string,
  current: string | null | undefined,
): StoreEpochChangedError {
  const now = current === null || current === undefined || current === '' ? undefined : current;
  return new StoreEpochChangedError(
    now === undefined
      ? `Redis store '${storeName}' lost its data (epoch ${previous} is gone): its revisions start anew; resync from a snapshot`
      : `Redis store '${storeName}' started anew: epoch ${previous} became ${now}; resync from a snapshot`,
    previous,
    now,
  );
}

export function truncated(storeName: string, wanted: Revision, first: Revision): ChangelogTruncatedError {
  return new ChangelogTruncatedError(
    `the changelog of Redis store '${storeName}' no longer holds revision ${wanted} (it starts at ${first}); resync from a snapshot`,
    first - 1,
  );
}

/**
 * Decodes entries that must continue exactly after `last`, in epoch `epoch`. Throws on a gap
 * or a foreign epoch; the returned ChangeSets are in revision order.
 */
export function decodeEntries(
  storeName: string,
  epoch: string,
  last: Revision,
  entries: readonly StreamEntry[],
): ChangeSet[] {
  const out: ChangeSet[] = [];
  let expected = last + 1;
  for (const entry of entries) {
    const revision = entryRevision(entry);
    const e = field(entry[1], 'e');
    if (e !== epoch) throw epochChanged(storeName, epoch, e);
    if (revision !== expected) throw truncated(storeName, expected, revision);
    // A chunked seed's entry carries no changes (they would not fit one entry): resync past it.
    if (field(entry[1], 's') === '1') {
      throw new ChangelogTruncatedError(
        `revision ${revision} of Redis store '${storeName}' is its seed, which the changelog does not hold; resync from a snapshot`,
        revision,
      );
    }
    const at = field(entry[1], 't');
    out.push({
      revision,
      changes: decodeChanges(field(entry[1], 'c') ?? ''),
      committedAt: at === undefined ? undefined : Number(at),
    });
    expected++;
  }
  return out;
}

/** One message of the store's change feed (StoreKeys.changeFeed). */
export interface FeedMessage {
  readonly revision: Revision;
  readonly epoch: string;
  readonly committedAt: number;
  /** The change lines as the changelog entry holds them; undefined for a seed, which carries none. */
  readonly changes: string | undefined;
  /** The RedisStore instance that committed it (undefined: a build that did not say). */
  readonly writer?: string | undefined;
}

/**
 * Parses `<revision> <epoch> <commit ms> <writer>\n<changes>` (or, from an earlier build,
 * without the writer) or `<revision> <epoch> <commit ms> s`; undefined for anything else (a
 * reader then falls back to the changelog, as an earlier build does with a writer's message).
 */
export function parseFeedMessage(message: string): FeedMessage | undefined {
  const newline = message.indexOf('\n');
  const head = (newline < 0 ? message : message.slice(0, newline)).split(' ');
  const revision = Number(head[0]);
  const committedAt = Number(head[2]);
  const epoch = head[1];
  if (
    !Number.isSafeInteger(revision) ||
    revision < 1 ||
    epoch === undefined ||
    !Number.isFinite(committedAt)
  ) {
    return undefined;
  }
  if (newline >= 0 && (head.length === 3 || (head.length === 4 && head[3] !== ''))) {
    return { revision, epoch, committedAt, changes: message.slice(newline + 1), writer: head[3] };
  }
  if (newline < 0 && head.length === 4 && head[3] === 's')
    return { revision, epoch, committedAt, changes: undefined };
  return undefined;
}
