// Converters between the public types and the proto3 JSON wire form both transports carry.
import { errorFromCode, InternalError } from './errors.js';
import type { WireMessage } from './transport.js';
import type {
  CheckBatchItemResult,
  ConditionalResult,
  Decision,
  ExplainNode,
  ObjectRef,
  PolicyProblem,
  Precondition,
  Relationship,
  RelationshipChange,
  RelationshipFilter,
  RevisionToken,
  SubjectRef,
  UpdateOperation,
} from './types.js';

/** A consistency the core has resolved: `read-your-writes` already turned into one of these. */
export type ResolvedConsistency =
  | 'minimize-latency'
  | 'fully-consistent'
  | { readonly atLeastAsFresh: RevisionToken };

export function objectToWire(o: ObjectRef): WireMessage {
  return { objectType: o.type, objectId: o.id };
}

export function subjectToWire(s: SubjectRef): WireMessage {
  return s.relation === undefined || s.relation === ''
    ? { object: objectToWire(s) }
    : { object: objectToWire(s), optionalRelation: s.relation };
}

export function relationshipToWire(r: Relationship): WireMessage {
  const wire: Record<string, unknown> = {
    resource: objectToWire(r.resource),
    relation: r.relation,
    subject: subjectToWire(r.subject),
  };
  if (r.condition !== undefined) {
    wire.optionalCondition =
      r.condition.context === undefined
        ? { name: r.condition.name }
        : { name: r.condition.name, context: r.condition.context };
  }
  // proto3 JSON: a Timestamp is an RFC 3339 string (the gRPC codec turns it into seconds/nanos).
  if (r.expiresAt !== undefined) wire.optionalExpiresAt = r.expiresAt.toISOString();
  return wire;
}

export function consistencyToWire(c: ResolvedConsistency): WireMessage {
  if (c === 'minimize-latency') return { minimizeLatency: true };
  if (c === 'fully-consistent') return { fullyConsistent: true };
  return { atLeastAsFresh: { token: c.atLeastAsFresh } };
}

export function filterToWire(f: RelationshipFilter): WireMessage {
  const wire: Record<string, unknown> = { resourceType: f.resourceType };
  if (f.resourceId !== undefined) wire.optionalResourceId = f.resourceId;
  if (f.relation !== undefined) wire.optionalRelation = f.relation;
  if (f.subjectType !== undefined) wire.optionalSubjectType = f.subjectType;
  if (f.subjectId !== undefined) wire.optionalSubjectId = f.subjectId;
  if (f.subjectRelation !== undefined) wire.optionalSubjectRelation = f.subjectRelation;
  return wire;
}

const UPDATE_OPERATIONS: Readonly<Record<UpdateOperation, string>> = {
  create: 'OPERATION_CREATE',
  touch: 'OPERATION_TOUCH',
  delete: 'OPERATION_DELETE',
};

export function updateToWire(operation: UpdateOperation, r: Relationship): WireMessage {
  return { operation: UPDATE_OPERATIONS[operation], relationship: relationshipToWire(r) };
}

export function preconditionToWire(p: Precondition): WireMessage {
  return {
    operation: p.operation === 'must-match' ? 'OPERATION_MUST_MATCH' : 'OPERATION_MUST_NOT_MATCH',
    filter: filterToWire(p.filter),
  };
}

// Readers below accept absent fields: proto3 JSON omits default values, and servers differ
// in whether they emit them.

function record(v: unknown): WireMessage {
  return typeof v === 'object' && v !== null ? (v as WireMessage) : {};
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function records(v: unknown): WireMessage[] {
  return Array.isArray(v) ? v.map(record) : [];
}

/** uint64 arrives as a decimal string (proto3 JSON) or a number. */
export function count(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return 0;
}

export function tokenFromWire(v: unknown): RevisionToken {
  return str(record(v).token);
}

// Shared answers: most checks allocate nothing for their decision.
const ALLOWED: Decision = { allowed: true, permissionship: 'allowed' };
const DENIED: Decision = { allowed: false, permissionship: 'denied' };

/**
 * `PERMISSIONSHIP_HAS_PERMISSION` → allowed, `…NO_PERMISSION` → denied, `…CONDITIONAL_PERMISSION`
 * → conditional with the missing context; anything else is a broken answer.
 */
export function decisionFromWire(permissionship: unknown, missingContext: unknown): Decision {
  const v = permissionship;
  if (v === 'PERMISSIONSHIP_HAS_PERMISSION' || v === 2) return ALLOWED;
  if (v === 'PERMISSIONSHIP_NO_PERMISSION' || v === 1) return DENIED;
  if (v === 'PERMISSIONSHIP_CONDITIONAL_PERMISSION' || v === 3) {
    return { allowed: false, permissionship: 'conditional', missingContext: strings(missingContext) };
  }
  throw new InternalError(
    `server answered with permissionship ${JSON.stringify(v ?? null)}; expected HAS_PERMISSION, NO_PERMISSION or CONDITIONAL_PERMISSION`,
  );
}

export function conditionalFromWire(v: unknown): ConditionalResult {
  const c = record(v);
  return { id: str(c.objectId), missingContext: strings(c.missingContext) };
}

export function objectFromWire(v: unknown): ObjectRef {
  const o = record(v);
  return { type: str(o.objectType), id: str(o.objectId) };
}

export function subjectFromWire(v: unknown): SubjectRef {
  const s = record(v);
  const object = objectFromWire(s.object);
  const relation = str(s.optionalRelation);
  return relation === '' ? object : { ...object, relation };
}

export function relationshipFromWire(v: unknown): Relationship {
  const r = record(v);
  const out: Relationship = {
    resource: objectFromWire(r.resource),
    relation: str(r.relation),
    subject: subjectFromWire(r.subject),
  };
  const c = r.optionalCondition;
  const condition =
    typeof c === 'object' && c !== null && str(record(c).name) !== ''
      ? conditionFromWire(record(c))
      : undefined;
  const expires = typeof r.optionalExpiresAt === 'string' ? new Date(r.optionalExpiresAt) : undefined;
  const expiresAt = expires === undefined || Number.isNaN(expires.getTime()) ? undefined : expires;
  if (condition === undefined && expiresAt === undefined) return out;
  return {
    ...out,
    ...(condition === undefined ? {} : { condition }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

function conditionFromWire(c: WireMessage): Relationship['condition'] {
  const context = c.context;
  return typeof context === 'object' && context !== null && !Array.isArray(context)
    ? { name: str(c.name), context: context as Record<string, unknown> }
    : { name: str(c.name) };
}

export function changeFromWire(v: unknown): RelationshipChange {
  const c = record(v);
  return {
    operation: c.operation === 'OPERATION_DELETE' || c.operation === 2 ? 'delete' : 'insert',
    relationship: relationshipFromWire(c.relationship),
  };
}

export function explainNodeFromWire(v: unknown): ExplainNode {
  const n = record(v);
  return {
    kind: str(n.kind),
    object: str(n.object),
    label: str(n.label),
    result: n.result === true,
    children: records(n.children).map(explainNodeFromWire),
  };
}

export function batchResultFromWire(v: unknown): CheckBatchItemResult {
  const r = record(v);
  if (r.error !== undefined && r.error !== null) {
    const e = record(r.error);
    const field = str(e.field);
    return { error: errorFromCode(str(e.code), str(e.message), { field: field === '' ? undefined : field }) };
  }
  return decisionFromWire(r.permissionship, r.missingContext);
}

export function problemFromWire(v: unknown): PolicyProblem {
  const p = record(v);
  return {
    file: str(p.file),
    line: count(p.line),
    column: count(p.column),
    path: str(p.path),
    message: str(p.message),
  };
}
