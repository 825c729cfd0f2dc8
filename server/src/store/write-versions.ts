// Which parts of the relationship set a write's outcome depends on, and which parts it changes,
// named as version fields: how a store that commits writes planned elsewhere (a replica planning
// against its copy at revision R) tells, by compare-and-set, that nothing the plan read has
// changed since R (docs/design/redis-changelog-store.md). Every committed change stamps its
// fields with the revision; a plan at R is still the plan at the commit iff none of the fields
// it read is stamped later than R. A write of relationships reads each relationship's own field,
// so concurrent writes to one busy object (members joining one group) do not refuse each other;
// filters read coarser fields. A false conflict costs one replan, a missed one a wrong answer.
import type { Relationship } from '../model/relationship.js';
import type {
  Precondition,
  RelationshipChange,
  RelationshipFilter,
  RelationshipUpdate,
  Revision,
} from './store.js';

/** Stamped by every change: read by a filter that names no type (it could match anything). */
export const ANY_CHANGE_FIELD = '*';

/**
 * One relationship, whatever its condition and expiry: `k:` and a 64-bit hash of
 * `type:id#relation@subject` (two FNV-1a style lanes in base 36), so a field costs Redis a few
 * bytes whatever the ids' length; two relationships sharing a hash would only share their
 * conflicts. Redis keeps the fields of recent changes only (two generations, redis-scripts.ts).
 */
export function relationshipField(
  resourceType: string,
  resourceId: string,
  relation: string,
  subjectType: string,
  subjectId: string,
  subjectRelation: string | undefined,
): string {
  lanes[0] = 0x811c9dc5;
  lanes[1] = 0x050c5d1f;
  mix(resourceType);
  mix(resourceId);
  mix(relation);
  mix(subjectType);
  mix(subjectId);
  mix(subjectRelation ?? '');
  return `k:${base36(lanes[0] as number)}.${base36(lanes[1] as number)}`;
}

const BASE36_DIGITS = new Uint16Array(
  [...'0123456789abcdefghijklmnopqrstuvwxyz'].map((c) => c.charCodeAt(0)),
);
/** The digits base36 is writing, filled from the end (a 32-bit number has at most seven). */
const digits = new Uint16Array(7);

/**
 * `n.toString(36)` for an unsigned 32-bit `n`, the same string at a third of the cost: every
 * relationship of a write is hashed, and Number's radix conversion (a general double-to-string
 * path) was most of the hash's cost. The fields name versions other replicas stamp, so the
 * digits must stay exactly these.
 */
export function base36(n: number): string {
  let first = digits.length;
  let rest = n;
  do {
    const quotient = Math.floor(rest / 36);
    digits[--first] = BASE36_DIGITS[rest - quotient * 36] as number;
    rest = quotient;
  } while (rest > 0);
  const d = digits;
  const all = String.fromCharCode(
    d[0] as number,
    d[1] as number,
    d[2] as number,
    d[3] as number,
    d[4] as number,
    d[5] as number,
    d[6] as number,
  );
  return first === 0 ? all : all.slice(first);
}

/** The hash's two 32-bit lanes, as relationshipField mixes each part in (no closure per call). */
const lanes = new Uint32Array(2);

function mix(text: string): void {
  let a = lanes[0] as number;
  let b = lanes[1] as number;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = (Math.imul(b ^ c, 0x01000396) + (a >>> 13)) | 0;
  }
  // A separator no name or id holds, so ('ab', 'c') and ('a', 'bc') differ.
  a = Math.imul(a ^ 0x1f, 0x01000193);
  b = (Math.imul(b ^ 0x1f, 0x01000396) + (a >>> 13)) | 0;
  lanes[0] = a;
  lanes[1] = b;
}

function fieldOf(r: Relationship): string {
  const s = r.subject;
  return relationshipField(r.resource.type, r.resource.id, r.relation, s.type, s.id, s.relation);
}

/** Every relationship of this resource object. */
export function resourceObjectField(type: string, id: string): string {
  return `r:${type}:${id}`;
}

/** Every relationship with this subject object, whatever its subject relation. */
export function subjectObjectField(type: string, id: string): string {
  return `s:${type}:${id}`;
}

/** Every relationship whose resource is of this type. */
export function resourceTypeField(type: string): string {
  return `rt:${type}`;
}

/** Every relationship whose subject is of this type. */
export function subjectTypeField(type: string): string {
  return `st:${type}`;
}

/**
 * The one field covering every relationship the filter can match, the narrowest the filter
 * allows: the one relationship it names in full, else its resource object, else its subject
 * object, else one of its types, else anything.
 */
export function filterField(filter: RelationshipFilter): string {
  const f = filter;
  if (
    f.resourceType !== undefined &&
    f.resourceId !== undefined &&
    f.relation !== undefined &&
    f.subjectType !== undefined &&
    f.subjectId !== undefined &&
    f.subjectRelation !== undefined
  ) {
    const subjectRelation = f.subjectRelation === '' ? undefined : f.subjectRelation;
    return relationshipField(
      f.resourceType,
      f.resourceId,
      f.relation,
      f.subjectType,
      f.subjectId,
      subjectRelation,
    );
  }
  if (filter.resourceType !== undefined && filter.resourceId !== undefined) {
    return resourceObjectField(filter.resourceType, filter.resourceId);
  }
  if (filter.subjectType !== undefined && filter.subjectId !== undefined) {
    return subjectObjectField(filter.subjectType, filter.subjectId);
  }
  if (filter.resourceType !== undefined) return resourceTypeField(filter.resourceType);
  if (filter.subjectType !== undefined) return subjectTypeField(filter.subjectType);
  return ANY_CHANGE_FIELD;
}

/** Each update's own relationship field (what its presence and attributes are), once each, in order. */
export function updateFields(updates: readonly RelationshipUpdate[]): Set<string> {
  const fields = new Set<string>();
  for (const u of updates) fields.add(fieldOf(u.relationship));
  return fields;
}

/**
 * The fields whose state decided a write of `updates` under `preconditions` (and, for a delete
 * by filter, `filter`): each update's presence and attributes are its relationship's own field;
 * each filter's matches are its filterField's. Each field once, the updates' own first (`own`,
 * updateFields(updates), when the caller has it already): a commit stamps those too, so a
 * store can send them once (RedisStore's COMMIT stamps the first `own.size` fields it read).
 */
export function fieldsRead(
  updates: readonly RelationshipUpdate[],
  preconditions: readonly Precondition[],
  filter?: RelationshipFilter,
  own: ReadonlySet<string> = updateFields(updates),
): string[] {
  const fields = [...own];
  if (preconditions.length === 0 && filter === undefined) return fields;
  const add = (f: RelationshipFilter): void => {
    const field = filterField(f);
    if (own.has(field) || fields.includes(field, own.size)) return;
    fields.push(field);
  };
  for (const p of preconditions) add(p.filter);
  if (filter !== undefined) add(filter);
  return fields;
}

/**
 * The fields a committed set of changes stamps: every field a read of any changed relationship
 * could name. Its relationships' own fields are the last `changes.length` or fewer (one per
 * distinct relationship); objectFieldsChanged is the rest.
 */
export function fieldsChanged(changes: readonly RelationshipChange[]): string[] {
  const fields = objectFieldsChanged(changes);
  const relationships = new Set<string>();
  for (const { relationship } of changes) relationships.add(fieldOf(relationship));
  for (const field of relationships) fields.push(field);
  return fields;
}

/**
 * The fields a committed set of changes stamps other than its relationships' own: what filters
 * read (objects, types, anything). A write's changes are its updates' relationships, whose own
 * fields its plan read already (updateFields), so it need not hash them again.
 */
export function objectFieldsChanged(changes: readonly RelationshipChange[]): string[] {
  if (changes.length === 0) return [];
  const resources = new ObjectsByType();
  const subjects = new ObjectsByType();
  for (const { relationship: r } of changes) {
    resources.add(r.resource.type, r.resource.id);
    subjects.add(r.subject.type, r.subject.id);
  }
  const fields = [ANY_CHANGE_FIELD];
  for (const type of resources.types()) fields.push(resourceTypeField(type));
  for (const type of subjects.types()) fields.push(subjectTypeField(type));
  resources.each((type, id) => {
    fields.push(resourceObjectField(type, id));
  });
  subjects.each((type, id) => {
    fields.push(subjectObjectField(type, id));
  });
  return fields;
}

/**
 * Distinct objects by type, without building a string per relationship: a batch names the
 * same objects and types many times, and only each distinct one becomes a field.
 */
class ObjectsByType {
  readonly #byType = new Map<string, Set<string>>();

  add(type: string, id: string): void {
    let ids = this.#byType.get(type);
    if (ids === undefined) {
      ids = new Set();
      this.#byType.set(type, ids);
    }
    ids.add(id);
  }

  types(): Iterable<string> {
    return this.#byType.keys();
  }

  each(visit: (type: string, id: string) => void): void {
    for (const [type, ids] of this.#byType) for (const id of ids) visit(type, id);
  }
}

/** A write decided against the relationship set at `revision`, not yet committed. */
export interface WritePlan {
  /** The revision the plan was made at. */
  readonly revision: Revision;
  /** What committing it changes, in order (may be empty: the commit is still a revision). */
  readonly changes: readonly RelationshipChange[];
  /** The fields whose state decided it (fieldsRead). */
  readonly reads: readonly string[];
}
