// RelationshipFilter semantics shared by every store: matching, a quotable rendering for
// error messages, and a canonical form that read cursors are bound to.
import type { Relationship } from '../model/relationship.js';
import type { RelationshipFilter } from './store.js';

/** Field order is fixed so the canonical form and the rendering never depend on object key order. */
const FILTER_FIELDS = [
  'resourceType',
  'resourceId',
  'relation',
  'subjectType',
  'subjectId',
  'subjectRelation',
] as const;

/** True when `r` satisfies every field the filter sets. `subjectRelation: ''` matches only plain subjects. */
export function matchesFilter(filter: RelationshipFilter, r: Relationship): boolean {
  return (
    (filter.resourceType === undefined || filter.resourceType === r.resource.type) &&
    (filter.resourceId === undefined || filter.resourceId === r.resource.id) &&
    (filter.relation === undefined || filter.relation === r.relation) &&
    (filter.subjectType === undefined || filter.subjectType === r.subject.type) &&
    (filter.subjectId === undefined || filter.subjectId === r.subject.id) &&
    (filter.subjectRelation === undefined || filter.subjectRelation === (r.subject.relation ?? ''))
  );
}

/** True when the filter sets no field at all, i.e. it matches every relationship. */
export function isEmptyFilter(filter: RelationshipFilter): boolean {
  return FILTER_FIELDS.every((f) => filter[f] === undefined);
}

/** `{resourceType: 'contact', subjectRelation: ''}`: the set fields only, for error messages. */
export function describeFilter(filter: RelationshipFilter): string {
  const parts: string[] = [];
  for (const f of FILTER_FIELDS) {
    const v = filter[f];
    if (v !== undefined) parts.push(`${f}: ${JSON.stringify(v)}`);
  }
  return `{${parts.join(', ')}}`;
}

/** A string equal for equal filters (unset and absent fields are the same). */
export function canonicalFilter(filter: RelationshipFilter): string {
  return JSON.stringify(FILTER_FIELDS.map((f) => filter[f] ?? null));
}
