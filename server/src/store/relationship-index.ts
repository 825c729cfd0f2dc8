// The memory store's indexed relationship set. Relationships are ordered by their canonical
// string (`resource#relation@subject`), which doubles as a prefix index by resource type,
// resource and relation; a second index by subject object serves subject reads and
// deleteObject without scanning the whole set.

import type { ObjectRef, Relationship } from '../model/relationship.js';
import { formatObject, relationshipKey } from '../model/relationship.js';
import { matchesFilter } from './relationship-filter.js';
import { SortedKeySet } from './sorted-key-set.js';
import type { RelationshipFilter } from './store.js';

/** `type:id#`: the key prefix of every relationship whose resource is `object`. */
export function resourcePrefix(object: ObjectRef): string {
  return `${object.type}:${object.id}#`;
}

/** A frozen copy holding only the contract's fields, so callers can neither alias nor mutate stored values. */
export function freezeRelationship(r: Relationship): Relationship {
  const subject =
    r.subject.relation === undefined
      ? { type: r.subject.type, id: r.subject.id }
      : { type: r.subject.type, id: r.subject.id, relation: r.subject.relation };
  return Object.freeze({
    resource: Object.freeze({ type: r.resource.type, id: r.resource.id }),
    relation: r.relation,
    subject: Object.freeze(subject),
  });
}

export class RelationshipIndex {
  private constructor(
    private readonly byKey: Map<string, Relationship>,
    private readonly ordered: SortedKeySet,
    /** Subject object `type:id` (any subject relation; `type:*` for wildcards) → relationship keys. */
    private readonly bySubject: Map<string, SortedKeySet>,
  ) {}

  static empty(): RelationshipIndex {
    return new RelationshipIndex(new Map(), new SortedKeySet(), new Map());
  }

  /**
   * An index over `byKey` (relationshipKey → frozen relationship), built with one sort rather
   * than one ordered insert per relationship: how startup data is loaded. Takes ownership of
   * the map. Also returns the keys in index order.
   */
  static build(byKey: Map<string, Relationship>): { index: RelationshipIndex; sortedKeys: string[] } {
    const sortedKeys = [...byKey.keys()].sort();
    // Walking the keys in order fills each subject's list already sorted.
    const bySubject = new Map<string, string[]>();
    for (const key of sortedKeys) {
      const subjectKey = formatObject((byKey.get(key) as Relationship).subject);
      const keys = bySubject.get(subjectKey);
      if (keys === undefined) bySubject.set(subjectKey, [key]);
      else keys.push(key);
    }
    const subjectSets = new Map<string, SortedKeySet>();
    for (const [subjectKey, keys] of bySubject) subjectSets.set(subjectKey, SortedKeySet.fromSorted(keys));
    const index = new RelationshipIndex(byKey, SortedKeySet.fromSorted(sortedKeys), subjectSets);
    return { index, sortedKeys };
  }

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): Relationship | undefined {
    return this.byKey.get(key);
  }

  /** Stores a frozen relationship under `relationshipKey(r)`; a no-op if present. */
  insert(r: Relationship): void {
    const key = relationshipKey(r);
    if (this.byKey.has(key)) return;
    this.byKey.set(key, r);
    this.ordered.add(key);
    const subjectKey = formatObject(r.subject);
    let keys = this.bySubject.get(subjectKey);
    if (keys === undefined) {
      keys = new SortedKeySet();
      this.bySubject.set(subjectKey, keys);
    }
    keys.add(key);
  }

  remove(key: string): void {
    const r = this.byKey.get(key);
    if (r === undefined) return;
    this.byKey.delete(key);
    this.ordered.delete(key);
    const subjectKey = formatObject(r.subject);
    const keys = this.bySubject.get(subjectKey);
    if (keys !== undefined) {
      keys.delete(key);
      if (keys.size === 0) this.bySubject.delete(subjectKey);
    }
  }

  /** Keys of every relationship whose resource or subject object is `object`. */
  keysMentioning(object: ObjectRef): string[] {
    const keys = [...this.ordered.withPrefix(resourcePrefix(object))];
    const asSubject = this.bySubject.get(formatObject(object));
    // A loop, not push(...spread): a group can be the subject of more relationships than a
    // call's argument list can carry.
    if (asSubject !== undefined) for (const key of asSubject.withPrefix('')) keys.push(key);
    return keys;
  }

  /** Keys starting with `prefix` (a resource, or a resource and relation), ascending. */
  keysWithPrefix(prefix: string): Generator<string, void, undefined> {
    return this.ordered.withPrefix(prefix);
  }

  /**
   * Matching relationships in key order, starting after `afterKey`. Picks the narrowest index
   * the filter allows: a resource prefix, the subject index, or (only for filters naming
   * neither resource type nor subject) the whole ordered set.
   */
  *scan(filter: RelationshipFilter, afterKey?: string): Generator<[string, Relationship], void, undefined> {
    let prefix = '';
    if (filter.resourceType !== undefined) {
      prefix = `${filter.resourceType}:`;
      if (filter.resourceId !== undefined) {
        prefix += `${filter.resourceId}#`;
        if (filter.relation !== undefined) prefix += `${filter.relation}@`;
      }
    }
    let source = this.ordered;
    const bySubject = filter.subjectType !== undefined && filter.subjectId !== undefined;
    if (bySubject && filter.resourceId === undefined) {
      const keys = this.bySubject.get(`${filter.subjectType}:${filter.subjectId}`);
      if (keys === undefined) return;
      source = keys;
    }
    for (const key of source.withPrefix(prefix, afterKey)) {
      const r = this.byKey.get(key) as Relationship;
      if (matchesFilter(filter, r)) yield [key, r];
    }
  }

  all(): Relationship[] {
    return [...this.byKey.values()];
  }
}
