// Wire → service params, shared by both transports. Input is the proto3 JSON shape (camelCase):
// parsed JSON from HTTP, or protobufjs-decoded messages from gRPC (unset fields read as ''/null/0).
// Type mistakes in JSON bodies fail here with INVALID_ARGUMENT naming the field. The two differ in
// the well-known types (Struct, Timestamp), which a WellKnownDialect reads.
import { RequestFieldError } from '../../errors.js';
import type { ObjectRef, Relationship, RelationshipCondition, SubjectRef } from '../../model/relationship.js';
import type {
  CheckBatchItemParams,
  CheckBatchParams,
  CheckParams,
  ConsistencyParams,
  DeleteObjectParams,
  DeleteRelationshipsParams,
  LookupResourcesParams,
  LookupSubjectsParams,
  ReadParams,
  RequestContextParams,
  ValidatePoliciesParams,
  WatchParams,
  WriteParams,
} from '../../service/requests.js';
import type {
  Precondition,
  RelationshipFilter,
  RelationshipUpdate,
  UpdateOperation,
} from '../../store/store.js';
import { JSON_DIALECT, type WellKnownDialect } from './well-known.js';

type Wire = Record<string, unknown>;

function typeName(v: unknown): string {
  return Array.isArray(v)
    ? 'an array'
    : v === null
      ? 'null'
      : typeof v === 'object'
        ? 'an object'
        : `a ${typeof v}`;
}

// Errors are RequestFieldErrors: a batch item is decoded once with paths relative to the item,
// and only a failing one is named `items[i].…` (RequestFieldError.under). `str` takes a name in
// two parts, `field` + `suffix`, joined only when the value is wrong.

function str(v: unknown, field: string, suffix = ''): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  throw new RequestFieldError(field + suffix, (f) => `${f} must be a string, got ${typeName(v)}`);
}

function optStr(v: unknown, field: string, suffix = ''): string | undefined {
  const s = str(v, field, suffix);
  return s === '' ? undefined : s;
}

function msg(v: unknown, field: string): Wire | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object' && !Array.isArray(v)) return v as Wire;
  throw new RequestFieldError(field, (f) => `${f} must be an object, got ${typeName(v)}`);
}

function list(v: unknown, field: string): readonly unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  throw new RequestFieldError(field, (f) => `${f} must be an array, got ${typeName(v)}`);
}

function bool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  throw new RequestFieldError(field, (f) => `${f} must be true or false, got ${typeName(v)}`);
}

/** uint32 from a JSON number or numeric string (proto3 JSON accepts both). */
function uint(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff) return n;
  throw new RequestFieldError(
    field,
    (f) => `${f} must be a non-negative whole number, got ${JSON.stringify(v)}`,
  );
}

/** An enum by number (gRPC) or name (JSON); `names[i]` is the name of value i. */
function enumValue(v: unknown, names: readonly string[], field: string): number {
  if (v === undefined || v === null) return 0;
  const i = typeof v === 'number' ? v : typeof v === 'string' ? names.indexOf(v) : -1;
  if (Number.isInteger(i) && i >= 0 && i < names.length) return i;
  // Never String(v): an object such as {"toString":1} has no usable conversion and would throw
  // a TypeError (a 500) while the error message is being built.
  const shown = typeof v === 'string' || typeof v === 'number' ? `'${String(v)}'` : typeName(v);
  throw new RequestFieldError(field, (f) => `${f} ${shown} is not one of ${names.slice(1).join(', ')}`);
}

export function decodeObjectRef(v: unknown, field: string): ObjectRef {
  const m = msg(v, field);
  if (m === undefined) return { type: '', id: '' };
  const type = m.objectType;
  const id = m.objectId;
  // Both strings (always, from protobufjs): no field names needed.
  if (typeof type === 'string' && typeof id === 'string') return { type, id };
  return { type: str(type, field, '.objectType'), id: str(id, field, '.objectId') };
}

export function decodeSubjectRef(v: unknown, field: string): SubjectRef {
  const m = msg(v, field);
  const o = decodeObjectRef(m?.object, field);
  const relation = m?.optionalRelation;
  if (relation === undefined || relation === null || relation === '') return o;
  return { type: o.type, id: o.id, relation: str(relation, field, '.optionalRelation') };
}

function decodeCondition(v: unknown, field: string, d: WellKnownDialect): RelationshipCondition | undefined {
  const m = msg(v, field);
  if (m === undefined) return undefined;
  const name = str(m.name, field, '.name');
  if (name === '') {
    throw new RequestFieldError(
      `${field}.name`,
      (f) => `${f} is required: the name of a condition of the schema`,
    );
  }
  const context = d.readStruct(m.context, `${field}.context`);
  return context === undefined || Object.keys(context).length === 0 ? { name } : { name, context };
}

export function decodeRelationship(
  v: unknown,
  field: string,
  d: WellKnownDialect = JSON_DIALECT,
): Relationship {
  const m = msg(v, field);
  if (m === undefined) throw new RequestFieldError(field, (f) => `${f} is required`);
  const r: Relationship = {
    resource: decodeObjectRef(m.resource, `${field}.resource`),
    relation: str(m.relation, `${field}.relation`),
    subject: decodeSubjectRef(m.subject, `${field}.subject`),
  };
  // Most relationships carry neither: no extra properties for them.
  const condition = decodeCondition(m.optionalCondition, `${field}.optionalCondition`, d);
  const expiresAt = d.readTimestamp(m.optionalExpiresAt, `${field}.optionalExpiresAt`);
  if (condition === undefined && expiresAt === undefined) return r;
  return {
    ...r,
    ...(condition === undefined ? {} : { condition }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

const MINIMIZE: ConsistencyParams = { kind: 'minimize_latency' };
const FULLY: ConsistencyParams = { kind: 'fully_consistent' };

export function decodeConsistency(v: unknown): ConsistencyParams | undefined {
  const m = msg(v, 'consistency');
  if (m === undefined) return undefined;
  const fresh = msg(m.atLeastAsFresh, 'consistency.atLeastAsFresh');
  const fully = bool(m.fullyConsistent, 'consistency.fullyConsistent');
  const minimize = bool(m.minimizeLatency, 'consistency.minimizeLatency');
  if (Number(fresh !== undefined) + Number(fully) + Number(minimize) > 1) {
    throw new RequestFieldError(
      'consistency',
      () =>
        'consistency sets more than one of minimizeLatency, atLeastAsFresh and fullyConsistent: choose one',
    );
  }
  if (fresh !== undefined) {
    const token = str(fresh.token, 'consistency.atLeastAsFresh.token');
    if (token === '') {
      throw new RequestFieldError(
        'consistency.atLeastAsFresh.token',
        () => 'consistency.atLeastAsFresh.token is empty: pass a token from a previous response',
      );
    }
    return { kind: 'at_least_as_fresh', token };
  }
  return fully ? FULLY : MINIMIZE;
}

const NO_FACTS: RequestContextParams = {};

/**
 * `context` and `contextualRelationships` of a check, batch item, lookup or explain; the shared
 * empty object when the request has neither (the common check pays one property test each).
 */
function decodeRequestContext(m: Wire, d: WellKnownDialect): RequestContextParams {
  const rawContext = m.context;
  const rawExtra = m.contextualRelationships;
  const noExtra =
    rawExtra === undefined || rawExtra === null || (Array.isArray(rawExtra) && rawExtra.length === 0);
  if ((rawContext === undefined || rawContext === null) && noExtra) return NO_FACTS;
  const context = d.readStruct(rawContext, 'context');
  const field = 'contextualRelationships';
  const contextualRelationships = noExtra
    ? undefined
    : list(rawExtra, field).map((r, i) => decodeRelationship(r, `${field}[${i}]`, d));
  return { context, contextualRelationships };
}

export function decodeCheck(m: Wire, d: WellKnownDialect = JSON_DIALECT): CheckParams {
  const check: CheckParams = {
    consistency: decodeConsistency(m.consistency),
    resource: decodeObjectRef(m.resource, 'resource'),
    permission: str(m.permission, 'permission'),
    subject: decodeSubjectRef(m.subject, 'subject'),
  };
  const facts = decodeRequestContext(m, d);
  return facts === NO_FACTS ? check : { ...check, ...facts };
}

/** One batch item, its field paths relative to the item (`resource.objectType`, `context`). */
function decodeCheckItem(item: Wire, d: WellKnownDialect): CheckBatchItemParams {
  const check: CheckBatchItemParams = {
    resource: decodeObjectRef(item.resource, 'resource'),
    permission: str(item.permission, 'permission'),
    subject: decodeSubjectRef(item.subject, 'subject'),
  };
  const facts = decodeRequestContext(item, d);
  return facts === NO_FACTS ? check : { ...check, ...facts };
}

export function decodeCheckBatch(m: Wire, d: WellKnownDialect = JSON_DIALECT): CheckBatchParams {
  const items = list(m.items, 'items').map((raw, i) => {
    const item = msg(raw, `items[${i}]`) ?? {};
    try {
      return decodeCheckItem(item, d);
    } catch (err) {
      // Only an item that fails pays for its `items[i].` name.
      throw err instanceof RequestFieldError ? err.under(`items[${i}].`) : err;
    }
  });
  return { consistency: decodeConsistency(m.consistency), items };
}

export function decodeLookupResources(m: Wire, d: WellKnownDialect = JSON_DIALECT): LookupResourcesParams {
  return {
    consistency: decodeConsistency(m.consistency),
    resourceType: str(m.resourceObjectType, 'resourceObjectType'),
    permission: str(m.permission, 'permission'),
    subject: decodeSubjectRef(m.subject, 'subject'),
    pageSize: uint(m.pageSize, 'pageSize'),
    cursor: optStr(m.cursor, 'cursor'),
    ...decodeRequestContext(m, d),
  };
}

export function decodeLookupSubjects(m: Wire, d: WellKnownDialect = JSON_DIALECT): LookupSubjectsParams {
  return {
    consistency: decodeConsistency(m.consistency),
    resource: decodeObjectRef(m.resource, 'resource'),
    permission: str(m.permission, 'permission'),
    subjectType: str(m.subjectObjectType, 'subjectObjectType'),
    subjectRelation: optStr(m.optionalSubjectRelation, 'optionalSubjectRelation'),
    ...decodeRequestContext(m, d),
  };
}

export function decodeFilter(v: unknown, field: string): RelationshipFilter {
  const m = msg(v, field) ?? {};
  return {
    resourceType: optStr(m.resourceType, `${field}.resourceType`),
    resourceId: optStr(m.optionalResourceId, `${field}.optionalResourceId`),
    relation: optStr(m.optionalRelation, `${field}.optionalRelation`),
    subjectType: optStr(m.optionalSubjectType, `${field}.optionalSubjectType`),
    subjectId: optStr(m.optionalSubjectId, `${field}.optionalSubjectId`),
    subjectRelation: optStr(m.optionalSubjectRelation, `${field}.optionalSubjectRelation`),
  };
}

const UPDATE_OPS = [
  'OPERATION_UNSPECIFIED',
  'OPERATION_CREATE',
  'OPERATION_TOUCH',
  'OPERATION_DELETE',
] as const;
const UPDATE_OP_VALUES: readonly (UpdateOperation | undefined)[] = [undefined, 'create', 'touch', 'delete'];
const PRECONDITION_OPS = [
  'OPERATION_UNSPECIFIED',
  'OPERATION_MUST_MATCH',
  'OPERATION_MUST_NOT_MATCH',
] as const;

function decodePreconditions(v: unknown): Precondition[] {
  return list(v, 'preconditions').map((raw, i) => {
    const field = `preconditions[${i}]`;
    const m = msg(raw, field) ?? {};
    const op = enumValue(m.operation, PRECONDITION_OPS, `${field}.operation`);
    if (op === 0) {
      throw new RequestFieldError(
        `${field}.operation`,
        (f) => `${f} is required: OPERATION_MUST_MATCH or OPERATION_MUST_NOT_MATCH`,
      );
    }
    return {
      operation: op === 1 ? 'must_match' : 'must_not_match',
      filter: decodeFilter(m.filter, `${field}.filter`),
    };
  });
}

export function decodeWrite(m: Wire, d: WellKnownDialect = JSON_DIALECT): WriteParams {
  const updates: RelationshipUpdate[] = list(m.updates, 'updates').map((raw, i) => {
    const field = `updates[${i}]`;
    const u = msg(raw, field) ?? {};
    const operation = UPDATE_OP_VALUES[enumValue(u.operation, UPDATE_OPS, `${field}.operation`)];
    if (operation === undefined) {
      throw new RequestFieldError(
        `${field}.operation`,
        (f) => `${f} is required: OPERATION_CREATE, OPERATION_TOUCH or OPERATION_DELETE`,
      );
    }
    return { operation, relationship: decodeRelationship(u.relationship, `${field}.relationship`, d) };
  });
  return { updates, preconditions: decodePreconditions(m.preconditions) };
}

export function decodeDeleteRelationships(m: Wire): DeleteRelationshipsParams {
  return { filter: decodeFilter(m.filter, 'filter'), preconditions: decodePreconditions(m.preconditions) };
}

export function decodeDeleteObject(m: Wire): DeleteObjectParams {
  return { object: decodeObjectRef(m.object, 'object') };
}

export function decodeRead(m: Wire): ReadParams {
  return {
    consistency: decodeConsistency(m.consistency),
    filter: decodeFilter(m.filter, 'filter'),
    pageSize: uint(m.pageSize, 'pageSize'),
    cursor: optStr(m.cursor, 'cursor'),
  };
}

export function decodeWatch(m: Wire): WatchParams {
  const start = msg(m.optionalStartCursor, 'optionalStartCursor');
  return { startToken: optStr(start?.token, 'optionalStartCursor.token') };
}

export function decodeValidatePolicies(m: Wire): ValidatePoliciesParams {
  const files = list(m.files, 'files').map((raw, i) => {
    const f = msg(raw, `files[${i}]`) ?? {};
    return { path: str(f.path, `files[${i}].path`), content: str(f.content, `files[${i}].content`) };
  });
  return { files };
}
