// Which parts of the relationship set a write's outcome depends on, and which parts it changes,
// named as version fields: how a store that commits writes planned elsewhere (a replica planning
// against its copy at revision R) tells, by compare-and-set, that nothing the plan read has
// changed since R (docs/design/redis-changelog-store.md). Every committed change stamps its
// fields with the revision; a plan at R is still the plan at the commit iff none of the fields
// it read is stamped later than R. Fields are coarse on purpose: a false conflict costs one
// replan, a missed one a wrong answer.
import type { Precondition, RelationshipChange, RelationshipFilter, RelationshipUpdate } from './store.js';

/** Stamped by every change: read by a filter that names no type (it could match anything). */
export const ANY_CHANGE_FIELD = '*';

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
 * allows: its resource object, else its subject object, else one of its types, else anything.
 */
export function filterField(filter: RelationshipFilter): string {
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

/**
 * The fields whose state decided a write of `updates` under `preconditions` (and, for a delete
 * by filter, `filter`): each update's presence and attributes are its resource object's; each
 * filter's matches are its filterField's. Each field once, in first-seen order.
 */
export function fieldsRead(
  updates: readonly RelationshipUpdate[],
  preconditions: readonly Precondition[],
  filter?: RelationshipFilter,
): string[] {
  const fields = new Set<string>();
  for (const p of preconditions) fields.add(filterField(p.filter));
  if (filter !== undefined) fields.add(filterField(filter));
  const resources = new ObjectsByType();
  for (const u of updates) resources.add(u.relationship.resource.type, u.relationship.resource.id);
  resources.each((type, id) => {
    fields.add(resourceObjectField(type, id));
  });
  return [...fields];
}

/** The fields a committed set of changes stamps: every field a read of any changed relationship could name. */
export function fieldsChanged(changes: readonly RelationshipChange[]): string[] {
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
  readonly revision: number;
  /** What committing it changes, in order (may be empty: the commit is still a revision). */
  readonly changes: readonly RelationshipChange[];
  /** The fields whose state decided it (fieldsRead). */
  readonly reads: readonly string[];
}
