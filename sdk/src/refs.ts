// String forms of objects, subjects and relationships: parsing what callers pass, formatting what they read.
import { InvalidArgumentError } from './errors.js';
import type {
  ObjectInput,
  ObjectRef,
  Relationship,
  RelationshipInput,
  SubjectInput,
  SubjectRef,
} from './types.js';

// Only the structure (`type:id`, `#relation`, `@subject`) is checked here; the server owns the
// rules for names and id characters, so the SDK never disagrees with it as those evolve.

function quote(input: string): string {
  return input.length > 120 ? `'${input.slice(0, 117)}...'` : `'${input}'`;
}

function splitTypeId(
  input: string,
  what: string,
  expected: string,
  field: string | undefined,
): [string, string] {
  const colon = input.indexOf(':');
  if (colon <= 0 || colon === input.length - 1) {
    throw new InvalidArgumentError(`invalid ${what} ${quote(input)}: expected ${expected}`, { field });
  }
  return [input.slice(0, colon), input.slice(colon + 1)];
}

/**
 * Parse `type:id`.
 *
 * @example parseObject('contact:prospect1') // { type: 'contact', id: 'prospect1' }
 */
export function parseObject(input: string, field?: string): ObjectRef {
  const [type, id] = splitTypeId(input, 'object', "'type:id' such as 'contact:p1'", field);
  if (id.includes('#') || id.includes('@')) {
    throw new InvalidArgumentError(
      `invalid object ${quote(input)}: an object is 'type:id' without '#' or '@'`,
      { field },
    );
  }
  return { type, id };
}

/**
 * Parse `type:id`, a subject set `type:id#relation`, or a wildcard `type:*`.
 *
 * @example parseSubject('group:marketing#member') // { type: 'group', id: 'marketing', relation: 'member' }
 */
export function parseSubject(input: string, field?: string): SubjectRef {
  const expected = "'type:id', 'type:id#relation' or 'type:*'";
  const [type, rest] = splitTypeId(input, 'subject', expected, field);
  if (rest.includes('@'))
    throw new InvalidArgumentError(`invalid subject ${quote(input)}: expected ${expected}`, { field });
  const hash = rest.indexOf('#');
  if (hash < 0) return { type, id: rest };
  const id = rest.slice(0, hash);
  const relation = rest.slice(hash + 1);
  if (id === '' || relation === '' || relation.includes('#')) {
    throw new InvalidArgumentError(`invalid subject ${quote(input)}: expected ${expected}`, { field });
  }
  return { type, id, relation };
}

/**
 * Parse `type:id#relation@subject`.
 *
 * @example parseRelationship('contact:p1#viewer@group:marketing#member')
 */
export function parseRelationship(input: string, field?: string): Relationship {
  const at = input.indexOf('@');
  const hash = at < 0 ? -1 : input.lastIndexOf('#', at);
  if (at < 0 || hash < 0) {
    throw new InvalidArgumentError(
      `invalid relationship ${quote(input)}: expected 'type:id#relation@subject' such as 'group:g#member@user:mike'`,
      { field },
    );
  }
  const relation = input.slice(hash + 1, at);
  if (relation === '') {
    throw new InvalidArgumentError(`invalid relationship ${quote(input)}: the relation after '#' is empty`, {
      field,
    });
  }
  return {
    resource: parseObject(input.slice(0, hash), field),
    relation,
    subject: parseSubject(input.slice(at + 1), field),
  };
}

/** An object from either form. */
export function toObjectRef(input: ObjectInput, field?: string): ObjectRef {
  return typeof input === 'string' ? parseObject(input, field) : input;
}

/** A subject from either form. */
export function toSubjectRef(input: SubjectInput, field?: string): SubjectRef {
  return typeof input === 'string' ? parseSubject(input, field) : input;
}

/** A relationship from any accepted form. */
export function toRelationship(input: RelationshipInput, field?: string): Relationship {
  if (typeof input === 'string') return parseRelationship(input, field);
  return {
    resource: toObjectRef(input.resource, field === undefined ? undefined : `${field}.resource`),
    relation: input.relation,
    subject: toSubjectRef(input.subject, field === undefined ? undefined : `${field}.subject`),
  };
}

/** `type:id`. */
export function formatObject(o: ObjectRef): string {
  return `${o.type}:${o.id}`;
}

/** `type:id`, `type:id#relation` or `type:*`. */
export function formatSubject(s: SubjectRef): string {
  return s.relation === undefined || s.relation === ''
    ? `${s.type}:${s.id}`
    : `${s.type}:${s.id}#${s.relation}`;
}

/**
 * `resource#relation@subject`.
 *
 * @example formatRelationship(rel) // 'group:g#member@user:mike'
 */
export function formatRelationship(r: Relationship): string {
  return `${formatObject(r.resource)}#${r.relation}@${formatSubject(r.subject)}`;
}
