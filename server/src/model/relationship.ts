// Objects, subjects and relationships: the value types every layer shares, with their
// one canonical string form (`resource#relation@subject`) and its strict parser.
import { InvalidArgumentError } from '../errors.js';

/** An object such as `contact:prospect1`. `type` may carry a namespace prefix: `crm/contact`. */
export interface ObjectRef {
  readonly type: string;
  readonly id: string;
}

/**
 * The subject of a relationship: an object (`user:mike`), a subject set
 * (`group:marketing#member`: every member of that group) or a wildcard (`user:*`: every user).
 */
export interface SubjectRef {
  readonly type: string;
  /** The object id, or `*` for a wildcard. */
  readonly id: string;
  /** Present for a subject set. Never present on a wildcard. */
  readonly relation?: string | undefined;
}

/** `resource#relation@subject`. */
export interface Relationship {
  readonly resource: ObjectRef;
  readonly relation: string;
  readonly subject: SubjectRef;
}

export const WILDCARD_ID = '*';

/** Type names: lowercase identifier, optionally prefixed by one namespace: `crm/contact`. */
export const TYPE_NAME_PATTERN = /^(?:[a-z][a-z0-9_]{0,62}\/)?[a-z][a-z0-9_]{0,62}$/;
/** Relation and permission names. */
export const RELATION_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
/** Object ids: the characters that cannot be confused with the separators `:#@`. */
export const OBJECT_ID_PATTERN = /^[A-Za-z0-9_\-=+|/.]{1,1024}$/;

export function isWildcard(subject: SubjectRef): boolean {
  return subject.id === WILDCARD_ID;
}

export function formatObject(o: ObjectRef): string {
  return `${o.type}:${o.id}`;
}

export function formatSubject(s: SubjectRef): string {
  return s.relation === undefined ? `${s.type}:${s.id}` : `${s.type}:${s.id}#${s.relation}`;
}

export function formatRelationship(r: Relationship): string {
  return `${r.resource.type}:${r.resource.id}#${r.relation}@${formatSubject(r.subject)}`;
}

function fail(what: string, input: string, why: string, field?: string): never {
  throw new InvalidArgumentError(
    `invalid ${what} '${truncate(input)}': ${why}`,
    field === undefined ? undefined : { field },
  );
}

function truncate(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function checkType(what: string, input: string, type: string, field?: string): void {
  if (!TYPE_NAME_PATTERN.test(type)) {
    fail(
      what,
      input,
      `type '${truncate(type)}' must be a lowercase name like 'document' or 'crm/document'`,
      field,
    );
  }
}

function checkId(what: string, input: string, id: string, field?: string): void {
  if (!OBJECT_ID_PATTERN.test(id)) {
    fail(
      what,
      input,
      `object id '${truncate(id)}' must be 1-1024 characters of A-Z a-z 0-9 _ - = + | / .`,
      field,
    );
  }
}

function checkRelation(what: string, input: string, relation: string, field?: string): void {
  if (!RELATION_NAME_PATTERN.test(relation)) {
    fail(what, input, `relation '${truncate(relation)}' must be a lowercase name like 'viewer'`, field);
  }
}

/** Parse `type:id`. Throws InvalidArgumentError naming the bad part. */
export function parseObject(input: string, field?: string): ObjectRef {
  const colon = input.indexOf(':');
  if (colon < 0) fail('object', input, "expected 'type:id'", field);
  const type = input.slice(0, colon);
  const id = input.slice(colon + 1);
  checkType('object', input, type, field);
  checkId('object', input, id, field);
  return { type, id };
}

/** Parse `type:id`, `type:id#relation` or `type:*`. */
export function parseSubject(input: string, field?: string): SubjectRef {
  const colon = input.indexOf(':');
  if (colon < 0) fail('subject', input, "expected 'type:id', 'type:id#relation' or 'type:*'", field);
  const type = input.slice(0, colon);
  const rest = input.slice(colon + 1);
  checkType('subject', input, type, field);
  const hash = rest.indexOf('#');
  const id = hash < 0 ? rest : rest.slice(0, hash);
  if (id === WILDCARD_ID) {
    if (hash >= 0) fail('subject', input, "a wildcard 'type:*' cannot name a relation", field);
    return { type, id };
  }
  checkId('subject', input, id, field);
  if (hash < 0) return { type, id };
  const relation = rest.slice(hash + 1);
  checkRelation('subject', input, relation, field);
  return { type, id, relation };
}

/** Parse `type:id#relation@subject`. */
export function parseRelationship(input: string, field?: string): Relationship {
  const at = input.indexOf('@');
  if (at < 0) fail('relationship', input, "expected 'type:id#relation@subject'", field);
  const left = input.slice(0, at);
  const hash = left.indexOf('#');
  if (hash < 0)
    fail('relationship', input, "the resource needs a relation: 'type:id#relation@subject'", field);
  const resource = parseObject(left.slice(0, hash), field);
  const relation = left.slice(hash + 1);
  checkRelation('relationship', input, relation, field);
  const subject = parseSubject(input.slice(at + 1), field);
  return { resource, relation, subject };
}

/** A check/assertion string `type:id#permission@type:id`: same shape as a relationship. */
export interface CheckTuple {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
}

export function parseCheckTuple(input: string, field?: string): CheckTuple {
  const r = parseRelationship(input, field);
  return { resource: r.resource, permission: r.relation, subject: r.subject };
}

export function relationshipKey(r: Relationship): string {
  return formatRelationship(r);
}

export function sameSubject(a: SubjectRef, b: SubjectRef): boolean {
  return a.type === b.type && a.id === b.id && (a.relation ?? '') === (b.relation ?? '');
}
