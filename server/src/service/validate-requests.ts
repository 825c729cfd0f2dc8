// Turns `*Params` from a transport into `Validated*` requests: syntax, schema names, limits.
// Everything the engine and store see has passed through here exactly once.
import type { CheckRequest } from '../engine/types.js';
import {
  asGatehouseError,
  type GatehouseError,
  InvalidArgumentError,
  LimitExceededError,
} from '../errors.js';
import {
  OBJECT_ID_PATTERN,
  type ObjectRef,
  RELATION_NAME_PATTERN,
  type Relationship,
  type SubjectRef,
  TYPE_NAME_PATTERN,
  WILDCARD_ID,
} from '../model/relationship.js';
import { closestName } from '../schema/did-you-mean.js';
import type { Schema } from '../schema/schema.js';
import { validateCheckTarget, validateRelationship } from '../schema/validate.js';
import type { Precondition, RelationshipFilter, RelationshipUpdate } from '../store/store.js';
import type {
  CheckBatchParams,
  CheckParams,
  ConsistencyParams,
  LookupResourcesParams,
  LookupSubjectsParams,
  ReadParams,
  ValidatedCheck,
  ValidatedCheckBatch,
  ValidatedConsistency,
  ValidatedLookupResources,
  ValidatedLookupSubjects,
  ValidatedRead,
  ValidatedWrite,
  WriteParams,
} from './requests.js';
import { decodeRevisionToken } from './revision-token.js';

const MINIMIZE_LATENCY: ValidatedConsistency = { kind: 'minimize_latency' };
const FULLY_CONSISTENT: ValidatedConsistency = { kind: 'fully_consistent' };

function show(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

export function validateConsistency(c: ConsistencyParams | undefined): ValidatedConsistency {
  if (c === undefined || c.kind === 'minimize_latency') return MINIMIZE_LATENCY;
  if (c.kind === 'fully_consistent') return FULLY_CONSISTENT;
  const { revision, store, epoch } = decodeRevisionToken(c.token, 'consistency.atLeastAsFresh.token');
  return { kind: 'at_least_as_fresh', revision, store, epoch };
}

/** A type name the schema declares; unknown ones fail with a did-you-mean. */
export function validateTypeName(schema: Schema, type: string, field: string): void {
  if (schema.types.has(type)) return;
  if (type === '') throw new InvalidArgumentError(`${field} is required: name an object type`, { field });
  const near = closestName(type, schema.types.keys());
  throw new InvalidArgumentError(
    `unknown object type '${show(type)}'${near === undefined ? '' : ` (did you mean '${near}'?)`}: use a type the loaded schema declares`,
    { field },
  );
}

/**
 * Syntax of `type:id`. With `schema`, a declared type skips the name pattern: every declared
 * name already matches it, and the check path saves a regex per reference.
 */
export function validateObjectRef(o: ObjectRef, field: string, schema?: Schema): void {
  if (o.type === '' && o.id === '') {
    throw new InvalidArgumentError(`${field} is required: set objectType and objectId`, { field });
  }
  if (!schema?.types.has(o.type) && !TYPE_NAME_PATTERN.test(o.type)) {
    throw new InvalidArgumentError(
      `invalid ${field} type '${show(o.type)}': must be a lowercase name like 'document' or 'crm/document'`,
      { field },
    );
  }
  if (!OBJECT_ID_PATTERN.test(o.id)) {
    throw new InvalidArgumentError(
      `invalid ${field} id '${show(o.id)}' of '${o.type}': must be 1-1024 characters of A-Z a-z 0-9 _ - = + | / .`,
      { field },
    );
  }
}

export function validateSubjectRef(s: SubjectRef, field: string, schema?: Schema): void {
  if (s.id === WILDCARD_ID) {
    if (s.relation !== undefined) {
      throw new InvalidArgumentError(
        `invalid ${field} '${s.type}:*#${show(s.relation)}': a wildcard cannot name a relation`,
        {
          field,
        },
      );
    }
    validateObjectRef({ type: s.type, id: 'x' }, field, schema);
    return;
  }
  validateObjectRef(s, field, schema);
  if (s.relation !== undefined && !RELATION_NAME_PATTERN.test(s.relation)) {
    throw new InvalidArgumentError(
      `invalid ${field} relation '${show(s.relation)}': must be a lowercase name like 'member'`,
      {
        field,
      },
    );
  }
}

/** Most contextual relationships one request may carry: they are indexed per request. */
export const MAX_CONTEXTUAL_RELATIONSHIPS = 1000;

/**
 * A request's context is a JSON object, and its contextual relationships are ones a write would
 * accept (validated like a write, never stored). Throws InvalidArgumentError naming the field.
 */
export function validateRequestContext(
  schema: Schema,
  p: { readonly context?: unknown; readonly contextualRelationships?: readonly Relationship[] | undefined },
  prefix: string,
): void {
  const context = p.context;
  if (context !== undefined && (typeof context !== 'object' || context === null || Array.isArray(context))) {
    throw new InvalidArgumentError(`${prefix}context must be a JSON object of parameter values`, {
      field: `${prefix}context`,
    });
  }
  const contextual = p.contextualRelationships;
  if (contextual === undefined) return;
  if (contextual.length > MAX_CONTEXTUAL_RELATIONSHIPS) {
    throw new LimitExceededError(
      `${contextual.length} contextual relationships exceed the limit of ${MAX_CONTEXTUAL_RELATIONSHIPS}`,
      { field: `${prefix}contextualRelationships` },
    );
  }
  for (let i = 0; i < contextual.length; i++) {
    const field = `${prefix}contextualRelationships[${i}]`;
    const r = contextual[i]!;
    validateObjectRef(r.resource, field, schema);
    validateSubjectRef(r.subject, field, schema);
    validateRelationship(schema, r, field);
  }
}

/** `item` itself when it is a valid check: a batch of them goes to the engine without copies. */
function validateCheckItem(schema: Schema, item: CheckRequest, prefix: string): CheckRequest {
  const { resource, permission, subject } = item;
  if (item.context !== undefined || item.contextualRelationships !== undefined)
    validateRequestContext(schema, item, prefix);
  validateObjectRef(resource, `${prefix}resource`, schema);
  if (permission === '') {
    throw new InvalidArgumentError(
      `${prefix}permission is required: name a permission or relation of '${resource.type}'`,
      {
        field: `${prefix}permission`,
      },
    );
  }
  validateSubjectRef(subject, `${prefix}subject`, schema);
  validateTypeName(schema, resource.type, `${prefix}resource`);
  validateCheckTarget(schema, resource.type, permission, `${prefix}permission`);
  validateTypeName(schema, subject.type, `${prefix}subject`);
  return item;
}

export function validateCheck(schema: Schema, p: CheckParams): ValidatedCheck {
  const { resource, permission, subject, context, contextualRelationships } = p;
  const check: CheckRequest =
    context === undefined && contextualRelationships === undefined
      ? { resource, permission, subject }
      : { resource, permission, subject, context, contextualRelationships };
  return { consistency: validateConsistency(p.consistency), check: validateCheckItem(schema, check, '') };
}

/** Bad items become errors in their own slot; only the batch as a whole can exceed the limit. */
export function validateCheckBatch(
  schema: Schema,
  p: CheckBatchParams,
  maxBatchSize: number,
): ValidatedCheckBatch {
  if (p.items.length > maxBatchSize) {
    throw new LimitExceededError(
      `batch of ${p.items.length} checks exceeds the limit of ${maxBatchSize}: split it into smaller batches`,
      { field: 'items' },
    );
  }
  const consistency = validateConsistency(p.consistency);
  const items: (CheckRequest | GatehouseError)[] = new Array(p.items.length);
  let invalid = 0;
  for (let i = 0; i < p.items.length; i++) {
    const item = p.items[i]!;
    try {
      // Unprefixed first: building `items[i].…` field names for every valid item costed more
      // than the checks themselves. Validation is deterministic, so a failing item fails again
      // below, this time with the field names that point into the batch.
      items[i] = validateCheckItem(schema, item, '');
    } catch {
      try {
        items[i] = validateCheckItem(schema, item, `items[${i}].`);
      } catch (err) {
        items[i] = asGatehouseError(err);
        invalid++;
      }
    }
  }
  return { consistency, items, invalid };
}

function pageSize(requested: number | undefined, max: number, field: string): number {
  if (requested === undefined || requested === 0) return max;
  if (!Number.isSafeInteger(requested) || requested < 0) {
    throw new InvalidArgumentError(`${field} ${requested} is not a page size: use a positive whole number`, {
      field,
    });
  }
  return Math.min(requested, max);
}

export function validateLookupResources(
  schema: Schema,
  p: LookupResourcesParams,
  maxPageSize: number,
): ValidatedLookupResources {
  const consistency = validateConsistency(p.consistency);
  validateTypeName(schema, p.resourceType, 'resourceObjectType');
  if (p.permission === '') {
    throw new InvalidArgumentError(
      `permission is required: name a permission or relation of '${p.resourceType}'`,
      {
        field: 'permission',
      },
    );
  }
  validateCheckTarget(schema, p.resourceType, p.permission, 'permission');
  validateSubjectRef(p.subject, 'subject');
  validateRequestContext(schema, p, '');
  validateTypeName(schema, p.subject.type, 'subject');
  return {
    consistency,
    resourceType: p.resourceType,
    permission: p.permission,
    subject: p.subject,
    pageSize: pageSize(p.pageSize, maxPageSize, 'pageSize'),
    cursor: p.cursor === '' ? undefined : p.cursor,
    context: p.context,
    contextualRelationships: p.contextualRelationships,
  };
}

export function validateLookupSubjects(schema: Schema, p: LookupSubjectsParams): ValidatedLookupSubjects {
  const consistency = validateConsistency(p.consistency);
  validateObjectRef(p.resource, 'resource');
  validateTypeName(schema, p.resource.type, 'resource');
  if (p.permission === '') {
    throw new InvalidArgumentError(
      `permission is required: name a permission or relation of '${p.resource.type}'`,
      {
        field: 'permission',
      },
    );
  }
  validateCheckTarget(schema, p.resource.type, p.permission, 'permission');
  validateTypeName(schema, p.subjectType, 'subjectObjectType');
  validateRequestContext(schema, p, '');
  const subjectRelation = p.subjectRelation === '' ? undefined : p.subjectRelation;
  if (subjectRelation !== undefined) {
    validateCheckTarget(schema, p.subjectType, subjectRelation, 'optionalSubjectRelation');
  }
  return {
    consistency,
    resource: p.resource,
    permission: p.permission,
    subjectType: p.subjectType,
    subjectRelation,
    context: p.context,
    contextualRelationships: p.contextualRelationships,
  };
}

/** A filter's names must exist; `requireResourceType` guards deletes against wiping everything. */
export function validateFilter(
  schema: Schema,
  f: RelationshipFilter,
  field: string,
  requireResourceType: boolean,
): RelationshipFilter {
  const norm = (s: string | undefined): string | undefined => (s === '' ? undefined : s);
  const filter: RelationshipFilter = {
    resourceType: norm(f.resourceType),
    resourceId: norm(f.resourceId),
    relation: norm(f.relation),
    subjectType: norm(f.subjectType),
    subjectId: norm(f.subjectId),
    // '' is meaningful to the store ("plain subjects only") but the wire cannot express it; absent = any.
    subjectRelation: norm(f.subjectRelation),
  };
  if (filter.resourceType === undefined) {
    if (requireResourceType) {
      throw new InvalidArgumentError(
        `${field}.resourceType is required: a delete must name the resource type it affects`,
        {
          field: `${field}.resourceType`,
        },
      );
    }
    if (filter.resourceId !== undefined || filter.relation !== undefined) {
      throw new InvalidArgumentError(`${field}: optionalResourceId and optionalRelation need resourceType`, {
        field: `${field}.resourceType`,
      });
    }
  } else {
    validateTypeName(schema, filter.resourceType, `${field}.resourceType`);
    if (filter.resourceId !== undefined) {
      validateObjectRef({ type: filter.resourceType, id: filter.resourceId }, `${field}.optionalResourceId`);
    }
    if (filter.relation !== undefined)
      validateCheckTarget(schema, filter.resourceType, filter.relation, `${field}.optionalRelation`);
  }
  if (filter.subjectType !== undefined) {
    validateTypeName(schema, filter.subjectType, `${field}.optionalSubjectType`);
    if (filter.subjectId !== undefined && filter.subjectId !== WILDCARD_ID) {
      validateObjectRef({ type: filter.subjectType, id: filter.subjectId }, `${field}.optionalSubjectId`);
    }
  } else if (filter.subjectId !== undefined || filter.subjectRelation !== undefined) {
    throw new InvalidArgumentError(
      `${field}: optionalSubjectId and optionalSubjectRelation need optionalSubjectType`,
      {
        field: `${field}.optionalSubjectType`,
      },
    );
  }
  return filter;
}

export function validatePreconditions(
  schema: Schema,
  preconditions: readonly Precondition[] | undefined,
): Precondition[] {
  return (preconditions ?? []).map((p, i) => ({
    operation: p.operation,
    filter: validateFilter(schema, p.filter, `preconditions[${i}].filter`, false),
  }));
}

export function validateWrite(schema: Schema, p: WriteParams, maxWriteUpdates: number): ValidatedWrite {
  const total = p.updates.length + (p.preconditions?.length ?? 0);
  if (total > maxWriteUpdates) {
    throw new LimitExceededError(
      `write of ${p.updates.length} updates and ${p.preconditions?.length ?? 0} preconditions exceeds the limit of ${maxWriteUpdates}: split it into several writes`,
      { field: 'updates' },
    );
  }
  if (p.updates.length === 0) {
    throw new InvalidArgumentError('updates is empty: a write needs at least one update', {
      field: 'updates',
    });
  }
  const updates: RelationshipUpdate[] = p.updates.map((u, i) => {
    const field = `updates[${i}].relationship`;
    validateObjectRef(u.relationship.resource, `${field}.resource`);
    validateSubjectRef(u.relationship.subject, `${field}.subject`);
    validateRelationship(schema, u.relationship, field);
    return u;
  });
  return { updates, preconditions: validatePreconditions(schema, p.preconditions) };
}

export function validateRead(schema: Schema, p: ReadParams, maxPageSize: number): ValidatedRead {
  return {
    consistency: validateConsistency(p.consistency),
    filter: validateFilter(schema, p.filter, 'filter', false),
    pageSize: pageSize(p.pageSize, maxPageSize, 'pageSize'),
    cursor: p.cursor === '' ? undefined : p.cursor,
  };
}
