// Builders of wire requests from the public request types, parsing string forms with field names.
import { InvalidArgumentError } from './errors.js';
import { parseRelationship, toObjectRef, toRelationship, toSubjectRef } from './refs.js';
import type { WireMessage } from './transport.js';
import type {
  CheckRequest,
  Precondition,
  RelationshipInput,
  UpdateOperation,
  WriteRequest,
} from './types.js';
import { objectToWire, preconditionToWire, subjectToWire, updateToWire } from './wire.js';

/** A check from its object form or its string form `type:id#permission@subject`. */
export function toCheckRequest(input: CheckRequest | string, field?: string): CheckRequest {
  if (typeof input !== 'string') return input;
  const r = parseRelationship(input, field);
  return { resource: r.resource, permission: r.relation, subject: r.subject };
}

/** The `{resource, permission, subject}` part shared by Check, CheckBatchItem and Explain. */
export function checkItemToWire(input: CheckRequest | string, field?: string): WireMessage {
  const c = toCheckRequest(input, field);
  const at = (name: string): string => (field === undefined ? name : `${field}.${name}`);
  return {
    resource: objectToWire(toObjectRef(c.resource, at('resource'))),
    permission: c.permission,
    subject: subjectToWire(toSubjectRef(c.subject, at('subject'))),
  };
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
