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
import type { RelationshipChange } from '../store.js';
import { STORE_NAME_PATTERN } from '../store.js';

/** Every key of one store, in the order the scripts receive them as KEYS[1..11]. */
export interface StoreKeys {
  /**
   * Legacy (stores written before the changelog layout; read once to convert them): a sorted
   * set, all scores 0, of members `type:id#relation@subject`.
   */
  readonly byResource: string;
  /** Legacy: the prefix of the by-subject buckets `<prefix><b>`, b in [0, SUBJECT_BUCKETS); never a key itself. */
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
  /** Legacy: a hash of member → its attributes, for the relationships that have some. */
  readonly attributes: string;
  /**
   * String with a TTL: the seeding lease, the id of the replica seeding the store in chunks;
   * absent when no seed is under way. Data at revision 0 is an unfinished seed (every write
   * bumps the revision), read as empty.
   */
  readonly seed: string;
  /**
   * Hash: version field (write-versions.ts: `r:type:id`, `s:type:id`, `rt:type`, `st:type`, `*`)
   * → the last revision whose changes touched it. A commit refuses a plan made at R if a field
   * the plan read is newer than R.
   */
  readonly versions: string;
  /**
   * Hash: the previous generation of `versions` (redis-scripts.ts, COMMIT): a generation holds at
   * most VERSIONS_PER_GENERATION fields, then becomes this one, and this one is dropped.
   */
  readonly previousVersions: string;
  /**
   * Sorted set: the relationship images kept (members `<epoch>:<revision>`, scored by revision),
   * the compiled-graph cache's index for IMAGE_SCHEMA_HASH. The changelog is never trimmed past
   * the oldest image of the current epoch.
   */
  readonly images: string;
}

/**
 * Relationship images (relationship-image.ts) live in a GraphSnapshotCache of their own: its
 * key namespace, and the schema-hash slot that names the image format.
 */
export const IMAGE_NAMESPACE = 'image';
export const IMAGE_SCHEMA_HASH = 'relationships-1';

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
    versions: `${tag}:versions`,
    previousVersions: `${tag}:versions:previous`,
    // GraphSnapshotCache keeps each schema hash's index at `<prefix>:<namespace>:<hash>:revs`.
    images: `${tag}:${IMAGE_NAMESPACE}:${IMAGE_SCHEMA_HASH}:revs`,
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
    keys.versions,
    keys.images,
    keys.previousVersions,
  ];
}

/**
 * How many by-subject buckets a legacy store has (a store an older build wrote, converted once:
 * redis-store.ts). Prime, so the polynomial hash spreads ids that differ only in their last
 * characters.
 */
export const SUBJECT_BUCKETS = 65521;

/**
 * The legacy bucket of a subject object `type:id`: h = (h * 31 + byte) mod SUBJECT_BUCKETS, as
 * older builds' scripts computed it (names and ids are ASCII, so a UTF-16 unit is a byte); exact
 * in doubles, since h * 31 + 255 stays below 2^21.
 */
export function subjectBucketOf(object: string): number {
  let h = 0;
  for (let i = 0; i < object.length; i++) h = (h * 31 + object.charCodeAt(i)) % SUBJECT_BUCKETS;
  return h;
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
