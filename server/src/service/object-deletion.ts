// DeleteObject, planned by the service rather than by a store: every relationship that mentions
// the object (as resource or subject, plain or subject set) plus the schema's deletion
// consequences, read at one store revision R and committed as one plain write with
// `expectRevision: R`, re-planned when another writer got there first. So no store re-implements
// schema rules, and every store that passes the contract suite supports it.
import { AbortedError, FailedPreconditionError } from '../errors.js';
import type { ObjectRef, Relationship } from '../model/relationship.js';
import { formatObject, relationshipKey } from '../model/relationship.js';
import type { DeletionConsequence } from '../schema/schema.js';
import type { ChangeSet, RelationshipFilter, RelationshipUpdate, Revision, Store } from '../store/store.js';

/** Page size of the planning reads: within every store's read limit. */
const PAGE = 1000;
export const DEFAULT_DELETE_ATTEMPTS = 5;

/** A read saw a revision other than the plan's: the plan is stale before it is committed. */
class MovedOn extends Error {}

/** What deleting an object changes, as of one store revision. */
export interface ObjectDeletionPlan {
  readonly revision: Revision;
  /** Sorted by relationship key. */
  readonly deletes: readonly Relationship[];
  /** The consequence grants, sorted by relationship key. */
  readonly inserts: readonly Relationship[];
}

/**
 * Delete `object` and apply `consequences` in one revision. Retries the plan-and-commit up to
 * `attempts` times while other writers move the store on; then AbortedError.
 */
export async function deleteObject(
  store: Store,
  object: ObjectRef,
  consequences: readonly DeletionConsequence[],
  attempts = DEFAULT_DELETE_ATTEMPTS,
): Promise<ChangeSet> {
  for (let attempt = 1; ; attempt++) {
    try {
      const plan = await planObjectDeletion(store, object, consequences);
      const updates: RelationshipUpdate[] = [
        ...plan.deletes.map((relationship): RelationshipUpdate => ({ operation: 'delete', relationship })),
        ...plan.inserts.map((relationship): RelationshipUpdate => ({ operation: 'touch', relationship })),
      ];
      // No preconditions are sent, so a FailedPreconditionError can only mean "the store moved on".
      return await store.write(updates, [], { expectRevision: plan.revision });
    } catch (err) {
      if (!(err instanceof MovedOn || err instanceof FailedPreconditionError)) throw err;
      if (attempt >= attempts) {
        throw new AbortedError(
          `deleting ${formatObject(object)} lost the race with other writers ${attempts} times in a row: retry it later`,
        );
      }
    }
  }
}

/** Plan the deletion from reads at one revision (MovedOn if the reads straddle a write). */
export async function planObjectDeletion(
  store: Store,
  object: ObjectRef,
  consequences: readonly DeletionConsequence[],
): Promise<ObjectDeletionPlan> {
  const at = { revision: -1 };
  const doomed = new Map<string, Relationship>();
  const collect = (r: Relationship): undefined => {
    doomed.set(relationshipKey(r), r);
  };
  await readAll(store, { resourceType: object.type, resourceId: object.id }, at, collect);
  await readAll(store, { subjectType: object.type, subjectId: object.id }, at, collect);
  if (at.revision < 0) at.revision = await store.revision();
  const deletes = [...doomed.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
  const inserts = await consequenceGrants(store, object, deletes, doomed, consequences, at);
  return { revision: at.revision, deletes, inserts };
}

/**
 * For each resource (other than the object) that loses its last subject of a relation with a
 * declared consequence, the consequence's grant on it.
 */
async function consequenceGrants(
  store: Store,
  object: ObjectRef,
  deletes: readonly Relationship[],
  doomed: ReadonlyMap<string, Relationship>,
  consequences: readonly DeletionConsequence[],
  at: { revision: Revision },
): Promise<Relationship[]> {
  if (consequences.length === 0) return [];
  const byRelation = new Map<string, DeletionConsequence[]>();
  for (const c of consequences) {
    const key = `${c.resourceType}#${c.relation}`;
    byRelation.set(key, [...(byRelation.get(key) ?? []), c]);
  }
  const objectKey = formatObject(object);
  const grants = new Map<string, Relationship>();
  const examined = new Set<string>();
  for (const r of deletes) {
    const declared = byRelation.get(`${r.resource.type}#${r.relation}`);
    if (declared === undefined || formatObject(r.resource) === objectKey) continue;
    const prefix = `${formatObject(r.resource)}#${r.relation}`;
    if (examined.has(prefix)) continue;
    examined.add(prefix);
    const filter = { resourceType: r.resource.type, resourceId: r.resource.id, relation: r.relation };
    if (await anySurvivor(store, filter, doomed, at)) continue;
    for (const c of declared) {
      // Re-granting to the object being deleted would undo the deletion; skip it.
      if (formatObject(c.subject) === objectKey) continue;
      const grant: Relationship = { resource: r.resource, relation: r.relation, subject: c.subject };
      grants.set(relationshipKey(grant), grant);
    }
  }
  return [...grants.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, g]) => g);
}

async function anySurvivor(
  store: Store,
  filter: RelationshipFilter,
  doomed: ReadonlyMap<string, Relationship>,
  at: { revision: Revision },
): Promise<boolean> {
  let found = false;
  await readAll(store, filter, at, (r) => {
    if (!doomed.has(relationshipKey(r))) found = true;
    return found;
  });
  return found;
}

/** Page through `filter`, every page at `at.revision` (set by the first); `visit` returning true stops. */
async function readAll(
  store: Store,
  filter: RelationshipFilter,
  at: { revision: Revision },
  visit: (r: Relationship) => boolean | undefined,
): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await store.read(filter, { limit: PAGE, cursor });
    if (at.revision < 0) at.revision = page.revision;
    else if (page.revision !== at.revision) throw new MovedOn();
    for (const r of page.relationships) if (visit(r) === true) return;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}
