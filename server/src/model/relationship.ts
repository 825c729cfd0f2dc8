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

/**
 * A named condition on a relationship (a CEL expression declared in the schema) with the
 * parameter values stored with it; the parameters it lacks come from the request's context.
 */
export interface RelationshipCondition {
  readonly name: string;
  /** JSON values by parameter name; absent or empty when every value comes from the request. */
  readonly context?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * `resource#relation@subject`, optionally with a condition and an expiry. Its identity (what a
 * touch replaces, what a delete names) is the `resource#relation@subject` part alone.
 */
export interface Relationship {
  readonly resource: ObjectRef;
  readonly relation: string;
  readonly subject: SubjectRef;
  /** Present when the relationship grants only while its condition holds. */
  readonly condition?: RelationshipCondition | undefined;
  /** Milliseconds since the epoch at which the relationship stops granting. */
  readonly expiresAt?: number | undefined;
}

export const WILDCARD_ID = '*';

/**
 * Type names: lowercase identifier, optionally prefixed by a namespace of up to 7 levels:
 * `contact`, `crm/contact`, `org/sales_team/contact` (SpiceDB allows several levels).
 */
export const TYPE_NAME_PATTERN = /^(?:[a-z][a-z0-9_]{0,62}\/){0,7}[a-z][a-z0-9_]{0,62}$/;
/** Namespaces (`namespace:` of a policy file): one or more levels, `crm` or `org/sales_team`. */
export const NAMESPACE_PATTERN = /^[a-z][a-z0-9_]{0,62}(?:\/[a-z][a-z0-9_]{0,62}){0,6}$/;
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

/** The identity form `type:id#relation@subject`, without condition or expiry. */
export function formatRelationship(r: Relationship): string {
  return `${r.resource.type}:${r.resource.id}#${r.relation}@${formatSubject(r.subject)}`;
}

/** True when the relationship carries a condition or an expiry. */
export function hasAttributes(r: Relationship): boolean {
  return r.condition !== undefined || r.expiresAt !== undefined;
}

/**
 * The full form, the one `parseRelationship` reads: the identity followed by
 * `[name]`/`[name:{json}]` for a condition and `[expiration:RFC3339]` for an expiry (SpiceDB's
 * relationship-string notation, so strings copied from its tooling read as they are).
 */
export function formatRelationshipWithAttributes(r: Relationship): string {
  const base = formatRelationship(r);
  if (!hasAttributes(r)) return base;
  let out = base;
  if (r.condition !== undefined) {
    const ctx = r.condition.context;
    out +=
      ctx === undefined || Object.keys(ctx).length === 0
        ? `[${r.condition.name}]`
        : `[${r.condition.name}:${JSON.stringify(ctx)}]`;
  }
  if (r.expiresAt !== undefined) out += `[expiration:${new Date(r.expiresAt).toISOString()}]`;
  return out;
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

/** The `expiration` bracket name is reserved: no condition may be called that. */
export const EXPIRATION_ATTRIBUTE = 'expiration';

/** RFC 3339 with a time zone: `2026-12-31T00:00:00Z`, `2026-12-31T01:00:00.5+01:00`. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp to ms since the epoch; throws InvalidArgumentError. */
export function parseTimestamp(input: string, field?: string): number {
  const ms = RFC3339.test(input) ? Date.parse(input) : Number.NaN;
  if (Number.isNaN(ms)) {
    fail('expiration', input, "expected an RFC 3339 time such as '2026-12-31T00:00:00Z'", field);
  }
  return ms;
}

/** Index just past the JSON object starting at `start` (a `{`), honouring strings; -1 if unclosed. */
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
  expiresAt?: number;
}

/** Parses the `[...]` groups after a relationship's subject. */
function parseAttributes(input: string, start: number, field?: string): Attributes {
  const out: Attributes = {};
  let i = start;
  while (i < input.length) {
    if (input[i] !== '[')
      fail('relationship', input, "expected '[' to start a condition or expiration", field);
    const nameEnd = input.slice(i + 1).search(/[:\]]/);
    if (nameEnd < 0) fail('relationship', input, "unclosed '['", field);
    const name = input.slice(i + 1, i + 1 + nameEnd);
    let j = i + 1 + nameEnd;
    if (name === EXPIRATION_ATTRIBUTE) {
      if (out.expiresAt !== undefined) fail('relationship', input, 'more than one expiration', field);
      if (input[j] !== ':') fail('relationship', input, "expected '[expiration:<RFC 3339 time>]'", field);
      const close = input.indexOf(']', j);
      if (close < 0) fail('relationship', input, "unclosed '[expiration:'", field);
      out.expiresAt = parseTimestamp(input.slice(j + 1, close), field);
      i = close + 1;
      continue;
    }
    if (!RELATION_NAME_PATTERN.test(name)) {
      fail(
        'relationship',
        input,
        `condition name '${truncate(name)}' must be a lowercase name like 'ip_allowlist'`,
        field,
      );
    }
    if (out.condition !== undefined) fail('relationship', input, 'more than one condition', field);
    if (input[j] === ']') {
      out.condition = { name };
      i = j + 1;
      continue;
    }
    // input[j] === ':' — a JSON object of parameter values follows.
    j++;
    if (input[j] !== '{')
      fail(
        'relationship',
        input,
        `condition '${name}' expects a JSON object: '[${name}:{"key":value}]'`,
        field,
      );
    const end = endOfJsonObject(input, j);
    if (end < 0 || input[end] !== ']')
      fail('relationship', input, `condition '${name}': unclosed JSON object`, field);
    let context: Record<string, unknown>;
    try {
      context = JSON.parse(input.slice(j, end)) as Record<string, unknown>;
    } catch (e) {
      fail('relationship', input, `condition '${name}': ${(e as Error).message}`, field);
    }
    out.condition = Object.keys(context).length === 0 ? { name } : { name, context };
    i = end + 1;
  }
  return out;
}

/**
 * Parse `type:id#relation@subject`, optionally followed by `[condition]`,
 * `[condition:{"param":value}]` and/or `[expiration:2026-12-31T00:00:00Z]`.
 */
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
  const bracket = input.indexOf('[', at + 1);
  if (bracket < 0) return { resource, relation, subject: parseSubject(input.slice(at + 1), field) };
  const subject = parseSubject(input.slice(at + 1, bracket), field);
  const attributes = parseAttributes(input, bracket, field);
  return { resource, relation, subject, ...attributes };
}

/** A check/assertion string `type:id#permission@type:id`: same shape as a relationship. */
export interface CheckTuple {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subject: SubjectRef;
}

export function parseCheckTuple(input: string, field?: string): CheckTuple {
  const r = parseRelationship(input, field);
  if (hasAttributes(r)) {
    fail('check', input, 'a check names no condition or expiration (pass request context instead)', field);
  }
  return { resource: r.resource, permission: r.relation, subject: r.subject };
}

/** The identity of a relationship: equal for two relationships a touch would replace. */
export function relationshipKey(r: Relationship): string {
  return formatRelationship(r);
}

export function sameSubject(a: SubjectRef, b: SubjectRef): boolean {
  return a.type === b.type && a.id === b.id && (a.relation ?? '') === (b.relation ?? '');
}
