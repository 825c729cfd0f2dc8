// The relationship set of a store an older build wrote (two indexes in Redis) at one revision R,
// read in bounded chunks while writers carry on, without copying anything in Redis and without
// blocking it: how RedisStore converts such a store into its first relationship image. (Stores
// in today's layout hold no relationships in Redis; their snapshots come from the mirror.)
//
// Each chunk is read atomically together with the revision Ri it reflects (Ri >= R). Before a
// chunk is handed out, the changelog (R, Ri] is read and every relationship it touched is put
// back to its state at R: present at R exactly when its first change after R is a delete (which
// names it with the attributes it had).
// Relationships the changelog does not mention were the same at R as at Ri. So every chunk is
// exact at R, and R stays readable for as long as the changelog retains (R, now] — once it is
// trimmed past R the iteration fails with ChangelogTruncatedError and the caller takes a new
// snapshot.
import type { Relationship } from '../../model/relationship.js';
import type { Revision, StoreSnapshot } from '../store.js';
import { decodeEntries, epochChanged, type StreamEntry, truncated } from './redis-changelog.js';
import { parseStoredRelationship, resourceMember, type StoreKeys } from './redis-layout.js';

export interface SnapshotSource {
  readonly storeName: string;
  readonly keys: StoreKeys;
  readonly epoch: string;
  readonly chunkSize: number;
  /**
   * One chunk after `after` ('' = from the start) with the revision it was read at, and each
   * member's attributes ('' for none; absent when no relationship has any).
   */
  readChunk(after: string): Promise<{
    revision: Revision;
    epoch: string;
    members: string[];
    attributes?: string[] | undefined;
  }>;
  /** Changelog entries with revision in [from, to], at most `count`. */
  readChangelog(from: Revision, to: Revision, count: number): Promise<StreamEntry[]>;
}

export class RedisSnapshot implements StoreSnapshot {
  constructor(
    private readonly source: SnapshotSource,
    readonly revision: Revision,
  ) {}

  async *chunks(): AsyncGenerator<readonly Relationship[], void, undefined> {
    const { source, revision } = this;
    /** Every relationship changed since R → itself as it was at R, or null if absent at R. */
    const atR = new Map<string, Relationship | null>();
    let logRead = revision;
    let after = '';
    for (;;) {
      const chunk = await source.readChunk(after);
      if (chunk.epoch !== source.epoch) throw epochChanged(source.storeName, source.epoch, chunk.epoch);
      if (chunk.revision > logRead) {
        await this.learnChanges(logRead, chunk.revision, atR);
        logRead = chunk.revision;
      }
      const final = chunk.members.length < source.chunkSize;
      const upTo = final ? undefined : (chunk.members.at(-1) as string);
      const rows: [member: string, relationship: Relationship][] = [];
      chunk.members.forEach((m, i) => {
        if (!atR.has(m)) rows.push([m, parseStoredRelationship(m + (chunk.attributes?.[i] ?? ''))]);
      });
      for (const [m, r] of atR) {
        if (r !== null && m > after && (upTo === undefined || m <= upTo)) rows.push([m, r]);
      }
      if (rows.length !== chunk.members.length || atR.size > 0) rows.sort(([a], [b]) => (a < b ? -1 : 1));
      if (rows.length > 0) yield rows.map(([, r]) => r);
      if (upTo === undefined) return;
      after = upTo;
    }
  }

  /**
   * Reads the changelog (from, to] and records each relationship's state at R from its first
   * change: a delete names it as it was (attributes included), an insert means it was absent.
   */
  private async learnChanges(
    from: Revision,
    to: Revision,
    atR: Map<string, Relationship | null>,
  ): Promise<void> {
    const { source } = this;
    let last = from;
    while (last < to) {
      const entries = await source.readChangelog(last + 1, to, 1000);
      // decodeEntries throws ChangelogTruncatedError when revision last+1 was trimmed away.
      const sets = decodeEntries(source.storeName, source.epoch, last, entries);
      if (sets.length === 0) {
        // Nothing left at or after last+1 although revision `to` committed: trimmed meanwhile.
        throw truncated(source.storeName, last + 1, to + 1);
      }
      for (const set of sets) {
        for (const change of set.changes) {
          const m = resourceMember(change.relationship);
          if (!atR.has(m)) atR.set(m, change.operation === 'delete' ? change.relationship : null);
        }
        last = set.revision;
      }
    }
  }
}
