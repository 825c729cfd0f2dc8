// String forms of objects, subjects and relationships: parsing what callers pass, formatting what they read.
import { InvalidArgumentError } from './errors.js';
import type {
  ContextValues,
  ObjectInput,
  ObjectRef,
  Relationship,
  RelationshipCondition,
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
 * JSON values as the wire carries them: a plain object whose values survive JSON (Dates become
 * strings, undefined members go). A value JSON cannot hold (a cycle, a BigInt) is the caller's
 * InvalidArgumentError here, never an exception inside a transport.
 */
export function toContextValues(values: unknown, field: string): ContextValues {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new InvalidArgumentError(`${field} must be an object of JSON values`, { field });
  }
  try {
    return JSON.parse(JSON.stringify(values)) as ContextValues;
  } catch (err) {
    throw new InvalidArgumentError(
      `${field} must hold only JSON values: ${err instanceof Error ? err.message : String(err)}`,
      { field },
    );
  }
}

/** A Date from a Date or an RFC 3339 string; InvalidArgumentError for anything unreadable. */
export function toExpiry(input: unknown, field: string): Date {
  const date =
    input instanceof Date ? input : typeof input === 'string' ? new Date(input) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()) || (typeof input === 'string' && !/^\d{4}-\d\d-\d\dT/.test(input))) {
    throw new InvalidArgumentError(
      `${field} must be a Date or an RFC 3339 time such as '2026-12-31T00:00:00Z'`,
      { field },
    );
  }
  return date;
}

/** Index just past the JSON object that opens at `start`, honouring strings; -1 if unclosed. */
function endOfJsonObject(s: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return -1;
}

interface Attributes {
  condition?: RelationshipCondition;
  expiresAt?: Date;
}

/** The `[condition]`, `[condition:{json}]` and `[expiration:time]` groups after a subject. */
function parseAttributes(input: string, start: number, field: string | undefined): Attributes {
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`invalid relationship ${quote(input)}: ${why}`, { field });
  };
  const out: Attributes = {};
  let i = start;
  while (i < input.length) {
    if (input[i] !== '[') bad("expected '[' to start a condition or expiration");
    const rest = input.slice(i + 1);
    const nameEnd = rest.search(/[:\]]/);
    if (nameEnd <= 0) bad("expected '[name]', '[name:{...}]' or '[expiration:time]'");
    const name = rest.slice(0, nameEnd);
    let j = i + 1 + nameEnd;
    if (name === 'expiration') {
      const close = input.indexOf(']', j);
      if (input[j] !== ':' || close < 0) bad("expected '[expiration:<RFC 3339 time>]'");
      out.expiresAt = toExpiry(input.slice(j + 1, close), field ?? 'expiresAt');
      i = close + 1;
      continue;
    }
    if (out.condition !== undefined) bad('more than one condition');
    if (input[j] === ']') {
      out.condition = { name };
      i = j + 1;
      continue;
    }
    j++;
    const end = input[j] === '{' ? endOfJsonObject(input, j) : -1;
    if (end < 0 || input[end] !== ']') bad(`condition '${name}' expects '[${name}:{"param":value}]'`);
    try {
      out.condition = { name, context: JSON.parse(input.slice(j, end)) as ContextValues };
    } catch (err) {
      bad(`condition '${name}': ${err instanceof Error ? err.message : String(err)}`);
    }
    i = end + 1;
  }
  return out;
}

/**
 * Parse `type:id#relation@subject`, optionally followed by `[condition]`,
 * `[condition:{"param":value}]` and/or `[expiration:2026-12-31T00:00:00Z]`.
 *
 * @example parseRelationship('contact:p1#viewer@group:marketing#member')
 * @example parseRelationship('doc:1#viewer@user:ann[office_hours][expiration:2026-12-31T00:00:00Z]')
 */
export function parseRelationship(input: string, field?: string): Relationship {
  const bracket = input.indexOf('[');
  if (bracket >= 0) {
    const r = parseRelationship(input.slice(0, bracket), field);
    return { ...r, ...parseAttributes(input, bracket, field) };
  }
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
  const at = (name: string): string => (field === undefined ? name : `${field}.${name}`);
  const r: Relationship = {
    resource: toObjectRef(input.resource, at('resource')),
    relation: input.relation,
    subject: toSubjectRef(input.subject, at('subject')),
  };
  const { condition, expiresAt } = input;
  if (condition === undefined && expiresAt === undefined) return r;
  return {
    ...r,
    ...(condition === undefined ? {} : { condition: toCondition(condition, at('condition')) }),
    ...(expiresAt === undefined ? {} : { expiresAt: toExpiry(expiresAt, at('expiresAt')) }),
  };
}

function toCondition(c: RelationshipCondition, field: string): RelationshipCondition {
  if (typeof c !== 'object' || c === null || typeof c.name !== 'string' || c.name === '') {
    throw new InvalidArgumentError(`${field} needs the name of a condition of the schema`, { field });
  }
  return c.context === undefined
    ? { name: c.name }
    : { name: c.name, context: toContextValues(c.context, `${field}.context`) };
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
