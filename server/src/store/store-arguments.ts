// Argument checks every Store implementation applies the same way, so the memory and Redis
// stores reject the same calls with the same messages.
import { InvalidArgumentError } from '../errors.js';
import { describeFilter, isEmptyFilter } from './relationship-filter.js';
import type { Precondition, RelationshipFilter, RelationshipUpdate } from './store.js';

/** The largest page `read` serves unless a store is configured otherwise. */
export const DEFAULT_MAX_READ_LIMIT = 10_000;

const UPDATE_OPERATIONS: ReadonlySet<string> = new Set(['create', 'touch', 'delete']);
const PRECONDITION_OPERATIONS: ReadonlySet<string> = new Set(['must_match', 'must_not_match']);

export function checkReadLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new InvalidArgumentError(`invalid page limit ${limit}: it must be an integer from 1 to ${max}`, {
      field: 'limit',
    });
  }
}

/** Deletes by filter must name at least a resource type: an empty filter would wipe the store. */
export function checkDeleteFilter(filter: RelationshipFilter): void {
  if (isEmptyFilter(filter) || filter.resourceType === undefined) {
    throw new InvalidArgumentError(
      `refusing to delete by filter ${describeFilter(filter)}: set at least resourceType, so a delete cannot wipe the whole store by accident`,
      { field: 'filter' },
    );
  }
}

export function checkDeleteLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new InvalidArgumentError(
      `invalid delete limit ${limit}: it must be a positive integer, or omitted for no limit`,
      {
        field: 'limit',
      },
    );
  }
}

export function checkUpdateOperations(updates: readonly RelationshipUpdate[]): void {
  updates.forEach((u, i) => {
    if (!UPDATE_OPERATIONS.has(u.operation)) {
      throw new InvalidArgumentError(
        `unknown update operation '${String(u.operation)}': use 'create', 'touch' or 'delete'`,
        { field: `updates[${i}].operation` },
      );
    }
  });
}

export function checkPreconditionOperations(preconditions: readonly Precondition[]): void {
  preconditions.forEach((p, i) => {
    if (!PRECONDITION_OPERATIONS.has(p.operation)) {
      throw new InvalidArgumentError(
        `unknown precondition operation '${String(p.operation)}': use 'must_match' or 'must_not_match'`,
        { field: `preconditions[${i}].operation` },
      );
    }
  });
}

/** `after` must name a revision this store has produced (0 = from the beginning). */
export function checkWatchRevision(after: number, latest: number): void {
  if (!Number.isInteger(after) || after < 0) {
    throw new InvalidArgumentError(`invalid watch revision ${after}: it must be a non-negative integer`, {
      field: 'after',
    });
  }
  if (after > latest) {
    throw new InvalidArgumentError(
      `cannot watch after revision ${after}: the store is only at revision ${latest}; pass a revision this store returned`,
      { field: 'after' },
    );
  }
}

/** expectRevision, when given, must be a revision number. */
export function checkExpectRevision(expectRevision: number | undefined): void {
  if (expectRevision !== undefined && (!Number.isInteger(expectRevision) || expectRevision < 0)) {
    throw new InvalidArgumentError(
      `invalid expectRevision ${expectRevision}: it must be a non-negative integer, or omitted`,
      { field: 'expectRevision' },
    );
  }
}
