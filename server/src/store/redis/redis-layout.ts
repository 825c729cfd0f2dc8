// The Redis data layout of one store: key names under the store's hash tag, the two index
// member forms (by resource, by subject), the subject buckets, the change encoding of the
// changelog, and how a RelationshipFilter becomes an index range plus the fields the Lua
// scripts check.
import { InvalidArgumentError } from '../../errors.js';
import {
  formatRelationship,
  formatRelationshipWithAttributes,
  hasAttributes,
  parseRelationship,
  type Relationship,
} from '../../model/relationship.js';
import type { RelationshipChange, RelationshipFilter } from '../store.js';
import { STORE_NAME_PATTERN } from '../store.js';

/** Every key of one store, in the order the scripts receive them as KEYS[1..7]. */
export interface StoreKeys {
  /** Sorted set, all scores 0, members `type:id#relation@subject`: the set and its resource order. */
  readonly byResource: string;
  /**
   * The prefix of the by-subject buckets: `<prefix><b>` for b in [0, SUBJECT_BUCKETS) is a sorted
   * set, all scores 0, of members `stype:sid#srel@type:id#relation` (`srel` empty for plain
   * subjects) whose subject object `stype:sid` hashes to b. Small buckets stay listpack-encoded
   * (about a third of a skiplist's memory per member); never a key itself.
   */
  readonly bySubjectPrefix: string;
  /** String: the latest committed revision (absent = 0). */
  readonly revision: string;
  /** String: the store's epoch, created with the store; absent after a data loss. */
  readonly epoch: string;
  /** Stream: one entry per revision, id `<revision>-0`, fields e (epoch), t (commit ms), c (changes). */
  readonly changelog: string;
  /**
   * Pub/sub channel (not a key; the scripts name it `<changelog>:feed`): every change set as it
   * commits, `<revision> <epoch> <commit ms>\n<changes>`, or `<revision> <epoch> <commit ms> s`
   * for a seed. Watchers follow it and read the changelog only to fill a gap.
   */
  readonly changeFeed: string;
  /**
   * String (integer): the bytes of change lines ever appended to the changelog in this epoch; each
   * entry records it as `b`, which the trim by bytes reads.
   */
  readonly changelogBytes: string;
  /**
   * Hash: by-resource member → its attributes (`[condition…][expiration:…]`), only for the
   * relationships that have a condition or an expiry; absent while none has.
   */
  readonly attributes: string;
  /**
   * String with a TTL: the seeding lease, the id of the replica seeding the store in chunks;
   * absent when no seed is under way. Data at revision 0 is an unfinished seed (every write
   * bumps the revision), read as empty.
   */
  readonly seed: string;
}

/** Store names (the contract's pattern): part of every key, inside a Cluster hash tag. */
export function checkStoreName(name: string): void {
  if (!STORE_NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `invalid store name '${name.slice(0, 80)}': use 1-64 characters of A-Z a-z 0-9 _ - (it travels in revision tokens and Redis keys)`,
      { field: 'store' },
    );
  }
}

/** One hash tag per store: every key lands on one Cluster slot, so scripts may touch them all. */
export function storeKeys(storeName: string): StoreKeys {
  checkStoreName(storeName);
  const tag = `{gatehouse:${storeName}}`;
  return {
    byResource: `${tag}:rels`,
    bySubjectPrefix: `${tag}:s:`,
    revision: `${tag}:revision`,
    epoch: `${tag}:epoch`,
    changelog: `${tag}:changelog`,
    changeFeed: `${tag}:changelog:feed`,
    changelogBytes: `${tag}:changelog:bytes`,
    attributes: `${tag}:attrs`,
    seed: `${tag}:seed`,
  };
}

export function keyList(keys: StoreKeys): string[] {
  return [
    keys.byResource,
    keys.bySubjectPrefix,
    keys.revision,
    keys.epoch,
    keys.changelog,
    keys.attributes,
    keys.seed,
    keys.changelogBytes,
  ];
}

/**
 * How many by-subject buckets a store has. Prime, so the polynomial hash spreads ids that
 * differ only in their last characters; at 1M relationships a bucket holds ~15 members, at 8M
 * ~128 (Redis's default `zset-max-listpack-entries`; raise it above that, see docs/redis.md).
 */
export const SUBJECT_BUCKETS = 65521;

/**
 * The bucket of a subject object `type:id`: h = (h * 31 + byte) mod SUBJECT_BUCKETS. The Lua
 * scripts compute the same (names and ids are ASCII, so a UTF-16 unit is a byte); exact in
 * doubles, since h * 31 + 255 stays below 2^21.
 */
export function subjectBucketOf(object: string): number {
  let h = 0;
  for (let i = 0; i < object.length; i++) h = (h * 31 + object.charCodeAt(i)) % SUBJECT_BUCKETS;
  return h;
}

export function subjectBucket(r: Relationship): number {
  return subjectBucketOf(`${r.subject.type}:${r.subject.id}`);
}

/** The by-resource member: the canonical relationship string. */
export function resourceMember(r: Relationship): string {
  const s = r.subject;
  const subject = s.relation === undefined ? `${s.type}:${s.id}` : `${s.type}:${s.id}#${s.relation}`;
  return `${r.resource.type}:${r.resource.id}#${r.relation}@${subject}`;
}

/** The by-subject member: `stype:sid#srel@type:id#relation` (`srel` empty for plain subjects). */
export function subjectMember(r: Relationship): string {
  const s = r.subject;
  return `${s.type}:${s.id}#${s.relation ?? ''}@${r.resource.type}:${r.resource.id}#${r.relation}`;
}

/**
 * Parses a member this store wrote (by-resource form). Trusts its input: members only ever
 * come from resourceMember, and ids cannot contain the separators `:#@`.
 */
export function parseResourceMember(m: string): Relationship {
  const at = m.indexOf('@');
  const c = m.indexOf(':');
  const h = m.indexOf('#', c);
  const c2 = m.indexOf(':', at);
  const h2 = m.indexOf('#', c2);
  const resource = { type: m.slice(0, c), id: m.slice(c + 1, h) };
  const subject =
    h2 < 0
      ? { type: m.slice(at + 1, c2), id: m.slice(c2 + 1) }
      : { type: m.slice(at + 1, c2), id: m.slice(c2 + 1, h2), relation: m.slice(h2 + 1) };
  return { resource, relation: m.slice(h + 1, at), subject };
}

/**
 * A relationship's attributes as the store keeps them: SpiceDB's `[condition:{…}][expiration:…]`
 * suffix of formatRelationshipWithAttributes, '' when it has none. Never contains a newline
 * (JSON.stringify escapes them), and members never contain '[', so `member + attributes` splits
 * back unambiguously.
 */
export function attributesOf(r: Relationship): string {
  return hasAttributes(r) ? formatRelationshipWithAttributes(r).slice(formatRelationship(r).length) : '';
}

/** A member with its attributes appended, as the scripts return it: parsed fast when it has none. */
export function parseStoredRelationship(text: string): Relationship {
  return text.includes('[') ? parseRelationship(text) : parseResourceMember(text);
}

/** Changelog entry `c` field: one line per change, `+member[attributes]` or `-member[attributes]`, in order. */
export function encodeChanges(changes: readonly RelationshipChange[]): string {
  return changes
    .map(
      (c) =>
        `${c.operation === 'insert' ? '+' : '-'}${resourceMember(c.relationship)}${attributesOf(c.relationship)}`,
    )
    .join('\n');
}

export function decodeChange(line: string): RelationshipChange {
  return {
    operation: line.charCodeAt(0) === 43 /* + */ ? 'insert' : 'delete',
    relationship: parseStoredRelationship(line.slice(1)),
  };
}

export function decodeChanges(text: string): RelationshipChange[] {
  return text === '' ? [] : text.split('\n').map(decodeChange);
}

/**
 * What the Lua scripts receive for a filter: an index, its subject bucket ('' = every bucket,
 * always '' for the by-resource index), a lexicographic range, and every field to check.
 */
export type FilterArgs = [index: 'r' | 's', bucket: string, min: string, max: string, ...fields: string[]];

/** The scripts' marker for "field not set"; no name or id can contain '!'. */
export const UNSET = '!';

/**
 * The narrowest index range covering the filter: the by-resource index when a resource type
 * is set (prefix type:id#relation@…), else the by-subject index when a subject type is set (one
 * bucket when the subject id is set too, else all of them), else everything. The range only
 * narrows the scan; the scripts check every set field.
 */
export function filterArgs(filter: RelationshipFilter): FilterArgs {
  const f = filter;
  const fields = [
    f.resourceType,
    f.resourceId,
    f.relation,
    f.subjectType,
    f.subjectId,
    f.subjectRelation,
  ].map((v) => v ?? UNSET);
  let index: 'r' | 's' = 'r';
  let bucket = '';
  let prefix = '';
  if (f.resourceType !== undefined) {
    prefix = `${f.resourceType}:`;
    if (f.resourceId !== undefined) {
      prefix += `${f.resourceId}#`;
      if (f.relation !== undefined) prefix += `${f.relation}@`;
    }
  } else if (f.subjectType !== undefined) {
    index = 's';
    prefix = `${f.subjectType}:`;
    if (f.subjectId !== undefined) {
      bucket = String(subjectBucketOf(`${f.subjectType}:${f.subjectId}`));
      prefix += `${f.subjectId}#`;
      if (f.subjectRelation !== undefined) prefix += `${f.subjectRelation}@`;
    }
  }
  // 0x7f sorts after every character a member can hold, so [prefix .. [prefix\x7f is the prefix.
  const [min, max] = prefix === '' ? ['-', '+'] : [`[${prefix}`, `[${prefix}\x7f`];
  return [index, bucket, min, max, ...fields];
}

/**
 * A by-subject scan position as the READ script returns it, `<bucket>|<member>`; checked before
 * it goes back to Redis, since a cursor is caller input.
 */
export function isSubjectScanPosition(position: string): boolean {
  const bar = position.indexOf('|');
  if (bar < 1) return false;
  const b = Number(position.slice(0, bar));
  return Number.isInteger(b) && b >= 0 && b < SUBJECT_BUCKETS && position.length > bar + 1;
}
