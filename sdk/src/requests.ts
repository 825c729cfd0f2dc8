// Builders of wire requests from the public request types, parsing string forms with field names.
import { InvalidArgumentError } from './errors.js';
import { parseRelationship, toContextValues, toObjectRef, toRelationship, toSubjectRef } from './refs.js';
import type { WireMessage } from './transport.js';
import type {
  CheckRequest,
  Precondition,
  RelationshipInput,
  RequestContext,
  UpdateOperation,
  WriteRequest,
} from './types.js';
import { objectToWire, preconditionToWire, relationshipToWire, subjectToWire, updateToWire } from './wire.js';

/** A check from its object form or its string form `type:id#permission@subject`. */
export function toCheckRequest(input: CheckRequest | string, field?: string): CheckRequest {
  if (typeof input !== 'string') return input;
  const r = parseRelationship(input, field);
  if (r.condition !== undefined || r.expiresAt !== undefined) {
    throw new InvalidArgumentError(
      `a check names no condition or expiration: pass { context } with the request instead`,
      { field },
    );
  }
  return { resource: r.resource, permission: r.relation, subject: r.subject };
}

function joined(field: string | undefined, name: string): string {
  return field === undefined ? name : `${field}.${name}`;
}

/** `context` and `contextualRelationships` in wire form, or nothing when the request has none. */
export function requestContextToWire(r: RequestContext, field?: string): WireMessage {
  const out: Record<string, unknown> = {};
  if (r.context !== undefined) out.context = toContextValues(r.context, joined(field, 'context'));
  const extra = r.contextualRelationships;
  if (extra !== undefined && extra.length > 0) {
    const at = joined(field, 'contextualRelationships');
    out.contextualRelationships = extra.map((x, i) => relationshipToWire(toRelationship(x, `${at}[${i}]`)));
  }
  return out;
}

/** The part shared by Check, CheckBatchItem and Explain: what is checked, with its context. */
export function checkItemToWire(input: CheckRequest | string, field?: string): WireMessage {
  const c = toCheckRequest(input, field);
  const wire = {
    resource: objectToWire(toObjectRef(c.resource, joined(field, 'resource'))),
    permission: c.permission,
    subject: subjectToWire(toSubjectRef(c.subject, joined(field, 'subject'))),
  };
  // The common check has neither: no extra object for it.
  if (c.context === undefined && c.contextualRelationships === undefined) return wire;
  return { ...wire, ...requestContextToWire(c, field) };
}

export function writeToWire(request: WriteRequest): WireMessage {
  const updates: WireMessage[] = [];
  const add = (operation: UpdateOperation, input: RelationshipInput): void => {
    updates.push(updateToWire(operation, toRelationship(input, `updates[${updates.length}]`)));
  };
  for (const u of request.updates ?? []) add(u.operation, u.relationship);
  for (const r of request.create ?? []) add('create', r);
  for (const r of request.touch ?? []) add('touch', r);
  for (const r of request.delete ?? []) add('delete', r);
  if (updates.length === 0) {
    throw new InvalidArgumentError(
      'a write needs at least one update: pass updates, create, touch or delete',
      {
        field: 'updates',
      },
    );
  }
  return { updates, preconditions: preconditionsToWire(request.preconditions) };
}

export function preconditionsToWire(preconditions: readonly Precondition[] | undefined): WireMessage[] {
  return (preconditions ?? []).map(preconditionToWire);
}
