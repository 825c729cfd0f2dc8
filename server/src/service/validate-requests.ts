// Turns `*Params` from a transport into `Validated*` requests: consistency, limits and page
// sizes here; every name and id through the engine's one resolve step (engine/resolve.ts), so
// what the engine and store see has been resolved exactly once, with one family of errors.
import type { ResolvedCheck, Resolver } from '../engine/resolve.js';
import { type GatehouseError, InvalidArgumentError, LimitExceededError, underPrefix } from '../errors.js';
import { WILDCARD_ID } from '../model/relationship.js';
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

export function validateConsistency(c: ConsistencyParams | undefined): ValidatedConsistency {
  if (c === undefined || c.kind === 'minimize_latency') return MINIMIZE_LATENCY;
  if (c.kind === 'fully_consistent') return FULLY_CONSISTENT;
  const { revision, store, epoch } = decodeRevisionToken(c.token, 'consistency.atLeastAsFresh.token');
  return { kind: 'at_least_as_fresh', revision, store, epoch };
}

export function validateCheck(resolver: Resolver, p: CheckParams): ValidatedCheck {
  return { consistency: validateConsistency(p.consistency), check: resolver.check(p) };
}

/**
 * Bad items become errors in their own slot, resolved once: their field paths are relative to
 * the item and get `items[i].` only when they fail. Only the batch as a whole can exceed the limit.
 */
export function validateCheckBatch(
  resolver: Resolver,
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
  const items: (ResolvedCheck | GatehouseError)[] = new Array(p.items.length);
  let invalid = 0;
  for (let i = 0; i < p.items.length; i++) {
    try {
      items[i] = resolver.check(p.items[i]!);
    } catch (err) {
      items[i] = underPrefix(err, `items[${i}].`);
      invalid++;
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
  resolver: Resolver,
  p: LookupResourcesParams,
  maxPageSize: number,
): ValidatedLookupResources {
  const consistency = validateConsistency(p.consistency);
  const lookup = resolver.lookupResources({
    resourceType: p.resourceType,
    permission: p.permission,
    subject: p.subject,
    limit: pageSize(p.pageSize, maxPageSize, 'pageSize'),
    cursor: p.cursor,
    context: p.context,
    contextualRelationships: p.contextualRelationships,
  });
  return { consistency, lookup };
}

export function validateLookupSubjects(resolver: Resolver, p: LookupSubjectsParams): ValidatedLookupSubjects {
  return { consistency: validateConsistency(p.consistency), lookup: resolver.lookupSubjects(p) };
}

/** A filter's names must exist; `requireResourceType` guards deletes against wiping everything. */
export function validateFilter(
  resolver: Resolver,
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
    resolver.typeName(filter.resourceType, `${field}.resourceType`);
    if (filter.resourceId !== undefined) {
      resolver.object({ type: filter.resourceType, id: filter.resourceId }, `${field}.optionalResourceId`);
    }
    if (filter.relation !== undefined)
      resolver.node(filter.resourceType, filter.relation, `${field}.optionalRelation`);
  }
  if (filter.subjectType !== undefined) {
    resolver.typeName(filter.subjectType, `${field}.optionalSubjectType`);
    if (filter.subjectId !== undefined && filter.subjectId !== WILDCARD_ID) {
      resolver.object({ type: filter.subjectType, id: filter.subjectId }, `${field}.optionalSubjectId`);
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
  resolver: Resolver,
  preconditions: readonly Precondition[] | undefined,
): Precondition[] {
  return (preconditions ?? []).map((p, i) => ({
    operation: p.operation,
    filter: validateFilter(resolver, p.filter, `preconditions[${i}].filter`, false),
  }));
}

export function validateWrite(resolver: Resolver, p: WriteParams, maxWriteUpdates: number): ValidatedWrite {
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
    const relationship = resolver.relationship(u.relationship, `updates[${i}].relationship`);
    return relationship === u.relationship ? u : { ...u, relationship };
  });
  return { updates, preconditions: validatePreconditions(resolver, p.preconditions) };
}

export function validateRead(resolver: Resolver, p: ReadParams, maxPageSize: number): ValidatedRead {
  return {
    consistency: validateConsistency(p.consistency),
    filter: validateFilter(resolver, p.filter, 'filter', false),
    pageSize: pageSize(p.pageSize, maxPageSize, 'pageSize'),
    cursor: p.cursor === '' ? undefined : p.cursor,
  };
}
