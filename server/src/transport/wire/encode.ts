// Service results → the proto3 JSON message shape, shared by both transports. The two differ only
// in enum, uint64 and well-known-type representation, which a WireStyle supplies: numbers and
// messages for protobufjs encode, names, decimal strings and plain JSON for JSON.
import type { ConditionalId, ExplainNode, Permissionship } from '../../engine/types.js';
import type { GatehouseError } from '../../errors.js';
import type { ObjectRef, Relationship, SubjectRef } from '../../model/relationship.js';
import type {
  CheckBatchResult,
  CheckResult,
  DeleteResult,
  ExplainResult,
  LookupResourcesResult,
  LookupSubjectsResult,
  ReadResult,
  SchemaResult,
  ValidatePoliciesResult,
  WatchEvent,
  WriteResult,
} from '../../service/requests.js';
import { JSON_DIALECT, PROTOBUF_DIALECT, type WellKnownDialect } from './well-known.js';

export interface WireStyle {
  readonly hasPermission: number | string;
  readonly noPermission: number | string;
  readonly conditionalPermission: number | string;
  readonly insert: number | string;
  readonly delete: number | string;
  uint64(n: number): number | string;
  readonly wellKnown: WellKnownDialect;
}

export const GRPC_STYLE: WireStyle = {
  hasPermission: 2,
  noPermission: 1,
  conditionalPermission: 3,
  insert: 1,
  delete: 2,
  uint64: (n) => n,
  wellKnown: PROTOBUF_DIALECT,
};
export const JSON_STYLE: WireStyle = {
  hasPermission: 'PERMISSIONSHIP_HAS_PERMISSION',
  noPermission: 'PERMISSIONSHIP_NO_PERMISSION',
  conditionalPermission: 'PERMISSIONSHIP_CONDITIONAL_PERMISSION',
  insert: 'OPERATION_INSERT',
  delete: 'OPERATION_DELETE',
  uint64: (n) => String(n),
  wellKnown: JSON_DIALECT,
};

type Wire = Record<string, unknown>;

function objectRef(o: ObjectRef): Wire {
  return { objectType: o.type, objectId: o.id };
}

function subjectRef(s: SubjectRef): Wire {
  const object = { objectType: s.type, objectId: s.id };
  return s.relation === undefined ? { object } : { object, optionalRelation: s.relation };
}

export function encodeRelationship(r: Relationship, s: WireStyle): Wire {
  const out: Wire = { resource: objectRef(r.resource), relation: r.relation, subject: subjectRef(r.subject) };
  if (r.condition !== undefined) {
    const c = r.condition;
    out.optionalCondition =
      c.context === undefined
        ? { name: c.name }
        : { name: c.name, context: s.wellKnown.writeStruct(c.context) };
  }
  if (r.expiresAt !== undefined) out.optionalExpiresAt = s.wellKnown.writeTimestamp(r.expiresAt);
  return out;
}

/** Internal failures never reveal their details to the caller; the adapters log them instead. */
export const INTERNAL_MESSAGE = 'internal error: the server logged the details under this request id';

export function encodeErrorDetail(e: GatehouseError): Wire {
  const message = e.code === 'INTERNAL' ? INTERNAL_MESSAGE : e.message;
  return e.field === undefined ? { code: e.code, message } : { code: e.code, message, field: e.field };
}

function permissionship(p: Permissionship, s: WireStyle): number | string {
  return p === 'allowed' ? s.hasPermission : p === 'denied' ? s.noPermission : s.conditionalPermission;
}

/** `permissionship`, plus `missingContext` for a conditional answer (proto3 omits empty lists). */
function decision(
  r: { readonly permissionship: Permissionship; readonly missingContext?: readonly string[] | undefined },
  s: WireStyle,
): Wire {
  const out: Wire = { permissionship: permissionship(r.permissionship, s) };
  if (r.permissionship === 'conditional') out.missingContext = r.missingContext ?? [];
  return out;
}

export function encodeCheck(r: CheckResult, s: WireStyle): Wire {
  return { ...decision(r, s), checkedAt: { token: r.token } };
}

export function encodeCheckBatch(r: CheckBatchResult, s: WireStyle): Wire {
  const results = new Array<Wire>(r.results.length);
  // Two shared answers per response rather than an object per item; conditional ones are rare.
  const allowed = { permissionship: s.hasPermission };
  const denied = { permissionship: s.noPermission };
  for (let i = 0; i < r.results.length; i++) {
    const item = r.results[i]!;
    results[i] =
      item.error !== undefined
        ? { error: encodeErrorDetail(item.error) }
        : item.permissionship === 'conditional'
          ? decision(item, s)
          : item.allowed
            ? allowed
            : denied;
  }
  return { results, checkedAt: { token: r.token } };
}

function conditionalResult(c: ConditionalId): Wire {
  return { objectId: c.id, missingContext: c.missingContext };
}

export function encodeLookupResources(r: LookupResourcesResult): Wire {
  const out: Wire = { resourceObjectIds: r.resourceIds, lookedUpAt: { token: r.token } };
  if (r.nextCursor !== undefined) out.nextCursor = r.nextCursor;
  if (r.conditional !== undefined && r.conditional.length > 0) {
    out.conditionalResources = r.conditional.map(conditionalResult);
  }
  return out;
}

export function encodeLookupSubjects(r: LookupSubjectsResult): Wire {
  const out: Wire = {
    subjectObjectIds: r.subjectIds,
    wildcard: r.wildcard,
    excludedSubjectIds: r.excludedIds,
    lookedUpAt: { token: r.token },
  };
  if (r.conditional !== undefined && r.conditional.length > 0) {
    out.conditionalSubjects = r.conditional.map(conditionalResult);
  }
  return out;
}

function explainNode(n: ExplainNode): Wire {
  const out: Wire = {
    kind: n.kind,
    object: n.object,
    label: n.label,
    result: n.result,
    children: n.children.map(explainNode),
  };
  if (n.conditional === true) out.conditional = true;
  if (n.detail !== undefined) out.detail = n.detail;
  return out;
}

export function encodeExplain(r: ExplainResult, s: WireStyle): Wire {
  return { ...decision(r, s), root: explainNode(r.root), checkedAt: { token: r.token } };
}

export function encodeWrite(r: WriteResult): Wire {
  return { writtenAt: { token: r.token } };
}

export function encodeDeleteRelationships(r: DeleteResult, s: WireStyle): Wire {
  return { deletedAt: { token: r.token }, deletedCount: s.uint64(r.deletedCount) };
}

export function encodeDeleteObject(r: DeleteResult, s: WireStyle): Wire {
  return {
    deletedAt: { token: r.token },
    deletedCount: s.uint64(r.deletedCount),
    consequences: r.consequences.map((c) => encodeRelationship(c, s)),
  };
}

export function encodeRead(r: ReadResult, s: WireStyle): Wire {
  const out: Wire = {
    relationships: r.relationships.map((x) => encodeRelationship(x, s)),
    readAt: { token: r.token },
  };
  if (r.nextCursor !== undefined) out.nextCursor = r.nextCursor;
  return out;
}

export function encodeWatch(e: WatchEvent, s: WireStyle): Wire {
  return {
    changes: e.changes.map((c) => ({
      operation: c.operation === 'insert' ? s.insert : s.delete,
      relationship: encodeRelationship(c.relationship, s),
    })),
    changesThrough: { token: e.token },
  };
}

export function encodeSchema(r: SchemaResult): Wire {
  return { schemaJson: r.schemaJson, schemaHash: r.schemaHash };
}

export function encodeValidatePolicies(r: ValidatePoliciesResult): Wire {
  return {
    valid: r.valid,
    problems: r.problems.map((p) => ({
      file: p.position.file,
      line: p.position.line,
      column: p.position.column,
      path: p.path,
      message: p.message,
    })),
  };
}
