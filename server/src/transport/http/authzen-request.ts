// AuthZEN Authorization API 1.0 request bodies: checks the shape the spec requires (a 400 naming
// the field otherwise), ignores unknown members as the spec asks, and maps subject, action and
// resource onto Gatehouse's check vocabulary. Whether the names exist in the schema is the
// service's business (it validates every check once).
import { InvalidArgumentError, LimitExceededError } from '../../errors.js';
import type { SubjectRef } from '../../model/relationship.js';
import type { CheckParams } from '../../service/requests.js';

export type JsonObject = Record<string, unknown>;

/** A Subject or Resource of the information model: `type` and `id`, optional `properties`. */
export interface AuthzenEntity {
  readonly type: string;
  readonly id: string;
  readonly properties?: JsonObject | undefined;
}

export interface AuthzenAction {
  readonly name: string;
  readonly properties?: JsonObject | undefined;
}

/** One Access Evaluation: what the PEP asks about, every required part present. */
export interface AuthzenEvaluation {
  readonly subject: AuthzenEntity;
  readonly action: AuthzenAction;
  readonly resource: AuthzenEntity;
  readonly context?: JsonObject | undefined;
}

export const EVALUATIONS_SEMANTICS = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] as const;
export type EvaluationsSemantic = (typeof EVALUATIONS_SEMANTICS)[number];

/** An Access Evaluations request with the top-level defaults applied to every item. */
export interface AuthzenEvaluations {
  /** Empty: the request had no `evaluations` and is answered as a single evaluation (`single`). */
  readonly items: readonly AuthzenEvaluation[];
  readonly single: AuthzenEvaluation | undefined;
  readonly semantic: EvaluationsSemantic;
}

/** The `page` object of a search request. */
export interface AuthzenPageRequest {
  readonly token: string | undefined;
  /** undefined or 0: the server's page size. */
  readonly limit: number | undefined;
}

/** The entity a search looks for: a `type` only (an `id` sent there is ignored, as the spec says). */
export interface AuthzenTypedEntity {
  readonly type: string;
  readonly properties?: JsonObject | undefined;
}

/**
 * A search request. Which entity is only typed depends on the endpoint (`SubjectSearch`,
 * `ResourceSearch`, `ActionSearch` below); the action search has no action.
 */
export interface AuthzenSearch<
  S extends AuthzenTypedEntity = AuthzenTypedEntity,
  R extends AuthzenTypedEntity = AuthzenTypedEntity,
  A extends AuthzenAction | undefined = AuthzenAction | undefined,
> {
  readonly subject: S;
  readonly action: A;
  readonly resource: R;
  readonly context: JsonObject | undefined;
  readonly page: AuthzenPageRequest;
}

export type SubjectSearch = AuthzenSearch<AuthzenTypedEntity, AuthzenEntity, AuthzenAction>;
export type ResourceSearch = AuthzenSearch<AuthzenEntity, AuthzenTypedEntity, AuthzenAction>;
export type ActionSearch = AuthzenSearch<AuthzenEntity, AuthzenEntity, undefined>;

/**
 * The subject property that names a subject set: `{"type":"group","id":"eng","properties":
 * {"relation":"member"}}` is Gatehouse's `group:eng#member` (every member of the group).
 */
export const SUBJECT_RELATION_PROPERTY = 'relation';

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(field: string, message: string): InvalidArgumentError {
  return new InvalidArgumentError(`${field} ${message}`, { field });
}

function requiredString(o: JsonObject, key: string, at: string): string {
  const value = o[key];
  if (value === undefined || value === null) throw invalid(`${at}.${key}`, 'is required (a string)');
  if (typeof value !== 'string') throw invalid(`${at}.${key}`, `must be a string, got ${describe(value)}`);
  if (value === '') throw invalid(`${at}.${key}`, 'must not be empty');
  return value;
}

/**
 * How deep `properties` and `context` may nest. JSON.parse takes any depth, but whatever walks the
 * value afterwards (conditions, the page token digest) recurses: a bounded depth keeps a hostile
 * body a 400 instead of a stack overflow.
 */
export const MAX_NESTING = 32;

function optionalObject(o: JsonObject, key: string, at: string): JsonObject | undefined {
  const value = o[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid(`${at}.${key}`, `must be an object, got ${describe(value)}`);
  boundedNesting(value, at === '' ? key : `${at}.${key}`);
  return value;
}

/** Throws when `value` holds objects or arrays nested deeper than MAX_NESTING (checked without recursion). */
function boundedNesting(value: JsonObject, at: string): void {
  // The common case, a flat object (`{"ownerID": "…"}`, `{}`), allocates nothing.
  let flat = true;
  for (const key in value) {
    const v = value[key];
    if (typeof v === 'object' && v !== null) {
      flat = false;
      break;
    }
  }
  if (flat) return;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_NESTING) throw invalid(at, `nests objects or arrays deeper than ${MAX_NESTING} levels`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string '${value}'` : `a ${typeof value}`;
}

/** The body as a JSON object: 400 unless it parses to one. */
export function parseAuthzenBody(text: string): JsonObject {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(body)) {
    throw new InvalidArgumentError(`the request body must be a JSON object, got ${describe(body)}`);
  }
  return body;
}

function entity(value: unknown, at: string): AuthzenEntity {
  if (!isObject(value)) throw invalid(at, `must be an object with 'type' and 'id', got ${describe(value)}`);
  return {
    type: requiredString(value, 'type', at),
    id: requiredString(value, 'id', at),
    properties: optionalObject(value, 'properties', at),
  };
}

/** A searched-for entity: `type` required, `id` ignored. */
function typedEntity(value: unknown, at: string): AuthzenTypedEntity {
  if (!isObject(value)) throw invalid(at, `must be an object with a 'type', got ${describe(value)}`);
  return { type: requiredString(value, 'type', at), properties: optionalObject(value, 'properties', at) };
}

function action(value: unknown, at: string): AuthzenAction {
  if (!isObject(value)) throw invalid(at, `must be an object with a 'name', got ${describe(value)}`);
  return { name: requiredString(value, 'name', at), properties: optionalObject(value, 'properties', at) };
}

function context(value: unknown, at: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid(at, `must be an object, got ${describe(value)}`);
  boundedNesting(value, at);
  return value;
}

function required(value: unknown, at: string): unknown {
  if (value === undefined || value === null) throw invalid(at, 'is required');
  return value;
}

/** An Access Evaluation request (`POST /access/v1/evaluation`). */
export function parseEvaluation(body: JsonObject): AuthzenEvaluation {
  return {
    subject: entity(required(body.subject, 'subject'), 'subject'),
    action: action(required(body.action, 'action'), 'action'),
    resource: entity(required(body.resource, 'resource'), 'resource'),
    context: context(body.context, 'context'),
  };
}

/**
 * An Access Evaluations request (`POST /access/v1/evaluations`). Each item's subject, action,
 * resource and context replace the top-level ones (no deep merge); an item missing one the top
 * level does not supply is a 400 naming `evaluations[i].<key>`.
 */
export function parseEvaluations(body: JsonObject, maxItems: number): AuthzenEvaluations {
  const options = optionalObject(body, 'options', '');
  const semantic = parseSemantic(options?.evaluations_semantic);
  const list = body.evaluations;
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    // The spec: without evaluations, behave as the single Access Evaluation request.
    return { items: [], single: parseEvaluation(body), semantic };
  }
  if (!Array.isArray(list)) throw invalid('evaluations', `must be an array, got ${describe(list)}`);
  if (list.length > maxItems) {
    throw new LimitExceededError(
      `evaluations has ${list.length} items, more than the limit of ${maxItems}: split them over several requests`,
      { field: 'evaluations' },
    );
  }
  const items: AuthzenEvaluation[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const at = `evaluations[${i}]`;
    const item: unknown = list[i];
    if (!isObject(item)) throw invalid(at, `must be an object, got ${describe(item)}`);
    const field = (key: 'subject' | 'action' | 'resource' | 'context'): unknown => item[key] ?? body[key];
    const where = (key: string): string =>
      item[key] !== undefined && item[key] !== null ? `${at}.${key}` : key;
    items[i] = {
      subject: entity(requiredDefault(field('subject'), at, 'subject'), where('subject')),
      action: action(requiredDefault(field('action'), at, 'action'), where('action')),
      resource: entity(requiredDefault(field('resource'), at, 'resource'), where('resource')),
      context: context(field('context'), where('context')),
    };
  }
  return { items, single: undefined, semantic };
}

function requiredDefault(value: unknown, at: string, key: string): unknown {
  if (value === undefined || value === null) {
    throw invalid(`${at}.${key}`, `is required: give it in the item or as the top-level default '${key}'`);
  }
  return value;
}

function parseSemantic(value: unknown): EvaluationsSemantic {
  if (value === undefined || value === null) return 'execute_all';
  if (typeof value === 'string' && (EVALUATIONS_SEMANTICS as readonly string[]).includes(value)) {
    return value as EvaluationsSemantic;
  }
  throw invalid(
    'options.evaluations_semantic',
    `must be one of ${EVALUATIONS_SEMANTICS.join(', ')}, got ${describe(value)}`,
  );
}

function page(value: unknown): AuthzenPageRequest {
  if (value === undefined || value === null) return { token: undefined, limit: undefined };
  if (!isObject(value)) throw invalid('page', `must be an object, got ${describe(value)}`);
  const token = value.token;
  if (token !== undefined && token !== null && typeof token !== 'string') {
    throw invalid(
      'page.token',
      `must be a string (a next_token of an earlier response), got ${describe(token)}`,
    );
  }
  const limit = value.limit;
  if (limit !== undefined && limit !== null && !(Number.isSafeInteger(limit) && (limit as number) >= 0)) {
    throw invalid('page.limit', `must be a non-negative whole number, got ${describe(limit)}`);
  }
  return {
    token: typeof token === 'string' && token !== '' ? token : undefined,
    limit: typeof limit === 'number' && limit > 0 ? limit : undefined,
  };
}

/** A Subject Search request: subject type, action, resource with its id. */
export function parseSubjectSearch(body: JsonObject): SubjectSearch {
  return {
    subject: typedEntity(required(body.subject, 'subject'), 'subject'),
    action: action(required(body.action, 'action'), 'action'),
    resource: entity(required(body.resource, 'resource'), 'resource'),
    context: context(body.context, 'context'),
    page: page(body.page),
  };
}

/** A Resource Search request: subject with its id, action, resource type. */
export function parseResourceSearch(body: JsonObject): ResourceSearch {
  return {
    subject: entity(required(body.subject, 'subject'), 'subject'),
    action: action(required(body.action, 'action'), 'action'),
    resource: typedEntity(required(body.resource, 'resource'), 'resource'),
    context: context(body.context, 'context'),
    page: page(body.page),
  };
}

/** An Action Search request: subject and resource with their ids; no action. */
export function parseActionSearch(body: JsonObject): ActionSearch {
  return {
    subject: entity(required(body.subject, 'subject'), 'subject'),
    action: undefined,
    resource: entity(required(body.resource, 'resource'), 'resource'),
    context: context(body.context, 'context'),
    page: page(body.page),
  };
}

/** Characters a Gatehouse object id may hold (OBJECT_ID_PATTERN) less `=`, the escape character. */
const SAFE_ID_CHAR = /^[A-Za-z0-9_\-+|/.]*$/;
const UNSAFE_ID_CHAR = /[^A-Za-z0-9_\-+|/.]/gu;

/**
 * The Gatehouse object id of an AuthZEN id. AuthZEN ids are any string (`alice@example.com`);
 * Gatehouse ids are `[A-Za-z0-9_-=+|/.]`. Ids of safe characters pass unchanged; every other
 * character, `=` included, becomes `=HH` per UTF-8 byte (`alice=40example.com`). Escaping `=` keeps
 * the mapping one-to-one: no two AuthZEN ids name the same object.
 */
export function toObjectId(id: string): string {
  if (SAFE_ID_CHAR.test(id)) return id;
  return id.replace(UNSAFE_ID_CHAR, (ch) => {
    let out = '';
    for (const byte of Buffer.from(ch, 'utf8')) out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    return out;
  });
}

/** The AuthZEN id of a Gatehouse object id: `toObjectId` undone. */
export function fromObjectId(id: string): string {
  if (!id.includes('=')) return id;
  const bytes: number[] = [];
  let out = '';
  const flush = (): void => {
    if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
    bytes.length = 0;
  };
  for (let i = 0; i < id.length; i++) {
    const hex = id.slice(i + 1, i + 3);
    if (id[i] === '=' && /^[0-9A-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      flush();
      out += id[i];
    }
  }
  flush();
  return out;
}

/** The Gatehouse subject of an AuthZEN subject: `type:id`, or `type:id#relation` with `properties.relation`. */
export function subjectRef(
  subject: { readonly type: string; readonly id: string; readonly properties?: JsonObject | undefined },
  at = 'subject',
): SubjectRef {
  const relation = subjectRelation(subject.properties, at);
  const id = toObjectId(subject.id);
  return relation === undefined ? { type: subject.type, id } : { type: subject.type, id, relation };
}

/** `properties.relation` of a subject: a non-empty string or absent. */
export function subjectRelation(properties: JsonObject | undefined, at = 'subject'): string | undefined {
  const relation = properties?.[SUBJECT_RELATION_PROPERTY];
  if (relation === undefined || relation === null) return undefined;
  if (typeof relation !== 'string' || relation === '') {
    throw invalid(
      `${at}.properties.${SUBJECT_RELATION_PROPERTY}`,
      `must be a relation name (a non-empty string) naming a subject set, got ${describe(relation)}`,
    );
  }
  return relation;
}

/**
 * The context relationship conditions see: the request's `context` members by name, and the
 * entities as `subject`, `resource` and `action` (their AuthZEN JSON, properties included) unless
 * `context` has a member of that name. A condition reads them as parameters, e.g.
 * `resource: map<any>` and `resource.properties.ownerID == owner_email`.
 */
export function conditionContext(e: {
  readonly subject: AuthzenTypedEntity;
  readonly resource: AuthzenTypedEntity;
  readonly action?: AuthzenAction | undefined;
  readonly context?: JsonObject | undefined;
}): JsonObject {
  const entities = definedMembers({
    subject: definedMembers(e.subject),
    resource: definedMembers(e.resource),
    action: definedMembers(e.action),
  });
  return { ...entities, ...e.context };
}

/**
 * `value` without its `undefined` members. The parser keeps an absent optional member (a
 * resource's `properties`, a search's `action`) as `undefined`, which is no JSON value: a
 * condition reading the entity would refuse it rather than see the member as absent.
 */
function definedMembers(value: object | undefined): JsonObject | undefined {
  if (value === undefined) return undefined;
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined));
}

/**
 * The Gatehouse check an evaluation asks: resource `type:id`, permission = action name, subject,
 * and with `withContext` (the schema declares conditions) the condition context. Without
 * conditions nothing reads it, so it is not built.
 */
export function checkParams(e: AuthzenEvaluation, withContext = true): CheckParams {
  const resource = { type: e.resource.type, id: toObjectId(e.resource.id) };
  const subject = subjectRef(e.subject);
  return withContext
    ? { resource, permission: e.action.name, subject, context: conditionContext(e) }
    : { resource, permission: e.action.name, subject };
}
