// The use cases that go to the store: WriteRelationships, DeleteRelationships, DeleteObject
// (planned with the schema's deletion consequences) and ReadRelationships. A write returns once
// the local graph has applied it, so this replica reads its own writes.
import { LimitExceededError } from '../errors.js';
import type { Relationship } from '../model/relationship.js';
import type { ChangeSet } from '../store/store.js';
import { withDeadline } from './deadline.js';
import type { Generation } from './generation.js';
import { deleteObject } from './object-deletion.js';
import type {
  CallContext,
  DeleteObjectParams,
  DeleteRelationshipsParams,
  DeleteResult,
  ReadParams,
  ReadResult,
  WriteParams,
  WriteResult,
} from './requests.js';
import { encodeRevisionToken } from './revision-token.js';
import type { UseCaseContext } from './use-case-context.js';
import { validateFilter, validatePreconditions, validateRead, validateWrite } from './validate-requests.js';

export class RelationshipWrites {
  readonly #c: UseCaseContext;

  constructor(context: UseCaseContext) {
    this.#c = context;
  }

  async writeRelationships(params: WriteParams, ctx: CallContext): Promise<WriteResult> {
    const c = this.#c;
    c.auth.authorize(ctx, 'WriteRelationships');
    const g = c.generations.current;
    const v = validateWrite(g.resolver, params, c.limits.maxWriteUpdates);
    const change = await this.#commit(
      g,
      'WriteRelationships',
      c.store.write(v.updates, v.preconditions),
      ctx,
    );
    return { token: encodeRevisionToken(change.revision, g.replica.identity) };
  }

  async deleteRelationships(params: DeleteRelationshipsParams, ctx: CallContext): Promise<DeleteResult> {
    const c = this.#c;
    c.auth.authorize(ctx, 'DeleteRelationships');
    if ((params.preconditions?.length ?? 0) > c.limits.maxWriteUpdates) {
      throw new LimitExceededError(
        `${params.preconditions?.length} preconditions exceed the limit of ${c.limits.maxWriteUpdates}: send fewer`,
        { field: 'preconditions' },
      );
    }
    const g = c.generations.current;
    const filter = validateFilter(g.resolver, params.filter, 'filter', true);
    const preconditions = validatePreconditions(g.resolver, params.preconditions);
    const change = await this.#commit(
      g,
      'DeleteRelationships',
      c.store.deleteByFilter(filter, preconditions),
      ctx,
    );
    return {
      token: encodeRevisionToken(change.revision, g.replica.identity),
      deletedCount: change.changes.length,
      consequences: [],
    };
  }

  async deleteObject(params: DeleteObjectParams, ctx: CallContext): Promise<DeleteResult> {
    const c = this.#c;
    c.auth.authorize(ctx, 'DeleteObject');
    const g = c.generations.current;
    g.resolver.object(params.object, 'object');
    const change = await this.#commit(
      g,
      'DeleteObject',
      deleteObject(c.store, params.object, g.consequences),
      ctx,
    );
    const consequences: Relationship[] = [];
    let deletedCount = 0;
    for (const each of change.changes) {
      if (each.operation === 'delete') deletedCount++;
      else consequences.push(each.relationship);
    }
    return { token: encodeRevisionToken(change.revision, g.replica.identity), deletedCount, consequences };
  }

  async readRelationships(params: ReadParams, ctx: CallContext): Promise<ReadResult> {
    const c = this.#c;
    c.auth.authorize(ctx, 'ReadRelationships');
    const g = c.generations.current;
    const v = validateRead(g.resolver, params, c.limits.maxPageSize);
    // Reads go to the store, which always answers at its newest revision: every consistency is met.
    const page = await withDeadline(
      c.store.read(v.filter, { limit: v.pageSize, cursor: v.cursor }),
      ctx.deadline,
    );
    return {
      relationships: page.relationships,
      nextCursor: page.nextCursor,
      token: encodeRevisionToken(page.revision, g.replica.identity),
    };
  }

  /** Commit a store write, then wait for the local graph to apply it so this replica reads its own writes. */
  async #commit(
    g: Generation,
    operation: string,
    write: Promise<ChangeSet>,
    ctx: CallContext,
  ): Promise<ChangeSet> {
    const change = await withDeadline(write, ctx.deadline);
    this.#c.logger?.debug(
      { operation, requestId: ctx.requestId, revision: change.revision, changes: change.changes.length },
      'committed',
    );
    g.replica.noteStoreRevision(change.revision);
    await g.replica.waitFor(change.revision, ctx.deadline);
    return change;
  }
}
