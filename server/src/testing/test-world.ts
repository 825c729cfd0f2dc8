// The world one policy test file runs in: a fresh MemoryStore, a GraphIndex built from its
// snapshot, and an engine over both; steps write to the store and replay its ChangeSets into
// the graph, the same path a served replica takes.
import { createEngine } from '../engine/index.js';
import type { Engine } from '../engine/types.js';
import { GraphIndex } from '../graph/index.js';
import type { ObjectRef, Relationship } from '../model/relationship.js';
import type { DeletionConsequence, Schema } from '../schema/schema.js';
import { deletionConsequences } from '../schema/schema.js';
import { deleteObject } from '../service/object-deletion.js';
import type { ChangeSet, Store } from '../store/index.js';
import { MemoryStore } from '../store/index.js';

export class PolicyTestWorld {
  private constructor(
    private readonly store: Store,
    private readonly graph: GraphIndex,
    private readonly consequences: readonly DeletionConsequence[],
    readonly engine: Engine,
  ) {}

  /** A world holding `relationships` (the policy set's data plus the file's fixtures). */
  static async create(schema: Schema, relationships: Iterable<Relationship>): Promise<PolicyTestWorld> {
    const given = [...relationships];
    const store = MemoryStore.withRelationships(given);
    const snapshot = await store.snapshot();
    // From the relationships as given (the store's snapshot holds the same ones): conditions and
    // expiries reach the graph even where a store does not keep them yet.
    const graph = GraphIndex.build(schema, given, snapshot.revision);
    return new PolicyTestWorld(store, graph, deletionConsequences(schema), createEngine(schema, graph));
  }

  /** Touch: writing a relationship that is already there changes nothing. */
  async write(relationships: readonly Relationship[]): Promise<void> {
    this.apply(
      await this.store.write(relationships.map((relationship) => ({ operation: 'touch', relationship }))),
    );
  }

  async delete(relationships: readonly Relationship[]): Promise<void> {
    this.apply(
      await this.store.write(relationships.map((relationship) => ({ operation: 'delete', relationship }))),
    );
  }

  /** DeleteObject with the schema's declared deletion consequences, in one revision. */
  async deleteObject(object: ObjectRef): Promise<void> {
    this.apply(await deleteObject(this.store, object, this.consequences));
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private apply(changeSet: ChangeSet): void {
    this.graph.apply(changeSet);
  }
}
