// Namespace resolution: inside a file with `namespace: ns`, an unqualified type name `t`
// means `ns/t`; a qualified `other/t` reaches another namespace's type unchanged.
import type { ObjectRef, Relationship, SubjectRef } from '../model/relationship.js';

export function qualifyTypeName(name: string, namespace: string | undefined): string {
  if (namespace === undefined || name.includes('/')) return name;
  return `${namespace}/${name}`;
}

export function qualifyObject(o: ObjectRef, namespace: string | undefined): ObjectRef {
  return { type: qualifyTypeName(o.type, namespace), id: o.id };
}

export function qualifySubject(s: SubjectRef, namespace: string | undefined): SubjectRef {
  const type = qualifyTypeName(s.type, namespace);
  return s.relation === undefined ? { type, id: s.id } : { type, id: s.id, relation: s.relation };
}

/** Qualifies the type names; a condition and an expiry are kept as they are. */
export function qualifyRelationship(r: Relationship, namespace: string | undefined): Relationship {
  return {
    ...r,
    resource: qualifyObject(r.resource, namespace),
    subject: qualifySubject(r.subject, namespace),
  };
}
