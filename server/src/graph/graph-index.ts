// The in-memory relationship graph the engine evaluates: ids interned per type, one EdgeSet per
// (resource type, relation, allowed subject kind), and group closures, all updated incrementally.
import { FailedPreconditionError, InvalidArgumentError } from '../errors.js';
import type { NumberedRelationshipVisitor, ObjectIds } from '../model/object-ids.js';
import type { Relationship, SubjectRef } from '../model/relationship.js';
import { formatRelationship, hasAttributes, WILDCARD_ID } from '../model/relationship.js';
import type { AllowedSubject, Schema } from '../schema/schema.js';
import type { ChangeSet, Revision } from '../store/store.js';
import { Adjacency, AdjacencyTable } from './adjacency.js';
import { AttributedEdges } from './attributed-edges.js';
import { EdgeSet, WILDCARD_SUBJECT } from './edge-set.js';
import { GroupClosure } from './group-closure.js';
import { IdInterner, NOT_INTERNED } from './interner.js';

/** The edge sets of one relation, one per subject kind the schema allows. */
export interface RelationEdges {
  readonly resourceType: string;
  readonly relation: string;
  readonly edgeSets: readonly EdgeSet[];
  /** Present when the relation nests into itself (`member: … or group#member`). */
  readonly closure: GroupClosure | undefined;
}

/** The key of a subject kind within a relation: `user`, `group#member` or `user:*`. */
export function subjectKindKey(type: string, relation: string | undefined, wildcard: boolean): string {
  if (wildcard) return `${type}:*`;
  return relation === undefined || relation === '' ? type : `${type}#${relation}`;
}

function allowedKey(a: AllowedSubject): string {
  return subjectKindKey(a.type, a.relation, a.wildcard);
}

function subjectKey(s: SubjectRef): string {
  return subjectKindKey(s.type, s.relation, s.id === WILDCARD_ID);
}

interface RelationSlot extends RelationEdges {
  readonly byKind: ReadonlyMap<string, EdgeSet>;
  /** subject type → its edge sets, for finding a relationship's edge set without building keys. */
  readonly bySubjectType: ReadonlyMap<string, SubjectTypeEdges>;
}

interface SubjectTypeEdges {
  object?: EdgeSet;
  wildcard?: EdgeSet;
  readonly sets: Map<string, EdgeSet>;
}

/** Hands out the columns of one table in order. */
class ColumnDealer {
  private readonly table: AdjacencyTable;
  private used = 0;
  constructor(columns: number) {
    this.table = new AdjacencyTable(columns);
  }
  next(): Adjacency {
    return this.table.column(this.used++);
  }
}

/**
 * One adjacency table per object type for the edges leaving its objects (every relation of the
 * type, every subject kind), and one for the edges arriving at them as subjects: a check reads
 * one row per object instead of one array per relation.
 */
function adjacencyTables(schema: Schema): {
  forward: Map<string, ColumnDealer>;
  reverse: Map<string, ColumnDealer>;
} {
  const outgoing = new Map<string, number>();
  const incoming = new Map<string, number>();
  const count = (m: Map<string, number>, type: string): void => {
    m.set(type, (m.get(type) ?? 0) + 1);
  };
  for (const type of schema.types.values()) {
    for (const rel of type.relations.values()) {
      for (const allowed of rel.allowed) {
        count(outgoing, type.name);
        if (!allowed.wildcard) count(incoming, allowed.type);
      }
    }
  }
  const dealers = (m: Map<string, number>): Map<string, ColumnDealer> =>
    new Map([...m].map(([type, columns]) => [type, new ColumnDealer(columns)]));
  return { forward: dealers(outgoing), reverse: dealers(incoming) };
}

/**
 * Every relationship of one schema, indexed for evaluation. Not thread-safe and not versioned:
 * the owner applies change sets in revision order between evaluations.
 */
export class GraphIndex {
  private readonly interners = new Map<string, IdInterner>();
  private readonly slots = new Map<string, RelationSlot>();
  /** type → relation → slot: the write path's lookup, without building `type#relation` keys. */
  private readonly slotsByType = new Map<string, Map<string, RelationSlot>>();
  /** Relationships with a condition or an expiry: kept apart, see attributed-edges.ts. */
  readonly attributed = new AttributedEdges();
  private currentRevision: Revision = 0;
  private count = 0;
  private mutations = 0;

  /**
   * `ids`: the numbering to adopt instead of one of the index's own. The memory store passes its
   * own, so each id is held once in the process; the index then finds its ids already numbered
   * (and may see numbers with no edges, as it does for ids whose relationships were removed).
   */
  constructor(
    readonly schema: Schema,
    ids?: ObjectIds,
  ) {
    const tables = adjacencyTables(schema);
    for (const type of schema.types.values()) {
      this.interners.set(type.name, ids === undefined ? new IdInterner() : ids.interner(type.name));
      for (const rel of type.relations.values()) {
        const byKind = new Map<string, EdgeSet>();
        let closure: GroupClosure | undefined;
        for (const allowed of rel.allowed) {
          const kind = allowed.wildcard
            ? 'wildcard'
            : allowed.relation === undefined
              ? 'object'
              : 'subject-set';
          const edges = new EdgeSet(
            type.name,
            rel.name,
            allowed.type,
            allowed.relation ?? '',
            kind,
            tables.forward.get(type.name)!.next(),
            // Wildcards all hang off subject 0: a column in every subject row would waste a slot each.
            kind === 'wildcard' ? new Adjacency() : tables.reverse.get(allowed.type)!.next(),
          );
          byKind.set(allowedKey(allowed), edges);
          if (allowed.type === type.name && allowed.relation === rel.name) {
            closure = new GroupClosure(edges);
            edges.closure = closure;
          }
        }
        const bySubjectType = new Map<string, SubjectTypeEdges>();
        for (const edges of byKind.values()) {
          let entry = bySubjectType.get(edges.subjectType);
          if (entry === undefined) {
            entry = { sets: new Map() };
            bySubjectType.set(edges.subjectType, entry);
          }
          if (edges.kind === 'object') entry.object = edges;
          else if (edges.kind === 'wildcard') entry.wildcard = edges;
          else entry.sets.set(edges.subjectRelation, edges);
        }
        const slot: RelationSlot = {
          resourceType: type.name,
          relation: rel.name,
          edgeSets: [...byKind.values()],
          byKind,
          bySubjectType,
          closure,
        };
        this.slots.set(`${type.name}#${rel.name}`, slot);
        let relations = this.slotsByType.get(type.name);
        if (relations === undefined) {
          relations = new Map();
          this.slotsByType.set(type.name, relations);
        }
        relations.set(rel.name, slot);
      }
    }
  }

  /** An index holding `relationships` at `revision`; closures are computed once at the end. */
  static build(schema: Schema, relationships: Iterable<Relationship>, revision: Revision): GraphIndex {
    const graph = new GraphIndex(schema);
    for (const slot of graph.slots.values()) slot.closure?.suspend();
    for (const r of relationships) graph.add(r);
    for (const slot of graph.slots.values()) slot.closure?.rebuild();
    graph.currentRevision = revision;
    return graph;
  }

  /**
   * As `build`, from a store snapshot's chunks: only one chunk of relationship objects is alive
   * at a time, where gathering them first would hold the whole set as objects at the peak.
   */
  static async buildFromChunks(
    schema: Schema,
    chunks: AsyncIterable<readonly Relationship[]>,
    revision: Revision,
    ids?: ObjectIds,
  ): Promise<GraphIndex> {
    const graph = new GraphIndex(schema, ids);
    for (const slot of graph.slots.values()) slot.closure?.suspend();
    for await (const chunk of chunks) for (const r of chunk) graph.add(r);
    for (const slot of graph.slots.values()) slot.closure?.rebuild();
    graph.currentRevision = revision;
    return graph;
  }

  /**
   * As `build`, from a store that shares `ids` with the index (the memory store): `load` hands
   * every relationship to the visitor it is given, plain ones as numbers, so no relationship
   * object is built and no id is hashed again. Returns the index at the revision `load` returns.
   */
  static fromNumbered(
    schema: Schema,
    ids: ObjectIds,
    load: (visitor: NumberedRelationshipVisitor) => Revision,
  ): GraphIndex {
    const graph = new GraphIndex(schema, ids);
    for (const slot of graph.slots.values()) slot.closure?.suspend();
    // The store hands one edge set's rows together (memory store: groupOrder): remember its edges.
    let last:
      | { rt: string; rel: string; st: string; sr: string | undefined; wildcard: boolean; edges: EdgeSet }
      | undefined;
    const revision = load({
      numbered: (resourceType, resource, relation, subjectType, subject, subjectRelation) => {
        const wildcard = subject < 0;
        let edges: EdgeSet;
        if (
          last !== undefined &&
          last.rt === resourceType &&
          last.rel === relation &&
          last.st === subjectType &&
          last.sr === subjectRelation &&
          last.wildcard === wildcard
        )
          edges = last.edges;
        else {
          edges = graph.edgesFor({
            resource: {
              type: resourceType,
              id: graph.interners.get(resourceType)?.id(resource) ?? String(resource),
            },
            relation,
            subject: {
              type: subjectType,
              id: wildcard ? WILDCARD_ID : (graph.interners.get(subjectType)?.id(subject) ?? String(subject)),
              relation: subjectRelation,
            },
          });
          last = { rt: resourceType, rel: relation, st: subjectType, sr: subjectRelation, wildcard, edges };
        }
        graph.addEdge(edges, resource, wildcard ? WILDCARD_SUBJECT : subject);
      },
      relationship: (r) => {
        graph.add(r);
      },
    });
    for (const slot of graph.slots.values()) slot.closure?.rebuild();
    graph.currentRevision = revision;
    return graph;
  }

  /**
   * Sets the counters of an index whose tables a snapshot decoder filled in directly
   * (server/src/graph/snapshot-codec.ts); nothing else should call this.
   */
  restoreCounts(relationshipCount: number, revision: Revision): void {
    this.count = relationshipCount;
    this.mutations = relationshipCount;
    this.currentRevision = revision;
  }

  /** The revision of the last change set applied (or given to `build`). */
  get revision(): Revision {
    return this.currentRevision;
  }

  get relationshipCount(): number {
    return this.count;
  }

  /** Changes with every relationship added or removed: lets readers cache derived answers. */
  get version(): number {
    return this.mutations;
  }

  /** The id numbering of `type`, or undefined if the schema has no such type. */
  interner(type: string): IdInterner | undefined {
    return this.interners.get(type);
  }

  /** The edge sets of `type#relation`, or undefined if the schema has no such relation. */
  relation(type: string, relation: string): RelationEdges | undefined {
    return this.slots.get(`${type}#${relation}`);
  }

  /** The edge set of one subject kind of `type#relation`, if the schema allows that kind. */
  edgeSet(type: string, relation: string, kindKey: string): EdgeSet | undefined {
    return this.slots.get(`${type}#${relation}`)?.byKind.get(kindKey);
  }

  /** Every relation's edges, in schema order. */
  relations(): Iterable<RelationEdges> {
    return this.slots.values();
  }

  /**
   * Every relationship the index holds, relation by relation in schema order, read back from the
   * forward adjacency (what a replica re-seeds an emptied store with). Do not mutate while iterating.
   */
  *relationships(): Generator<Relationship> {
    for (const slot of this.slots.values()) {
      const resources = this.interners.get(slot.resourceType)!;
      for (const edges of slot.edgeSets) {
        const subjects = edges.kind === 'wildcard' ? undefined : this.interners.get(edges.subjectType)!;
        for (let r = 0; r < resources.size; r++) {
          const degree = edges.forward.degree(r);
          for (let i = 0; i < degree; i++) {
            const n = edges.forward.neighbor(r, i);
            const subject: SubjectRef =
              subjects === undefined
                ? { type: edges.subjectType, id: WILDCARD_ID }
                : edges.kind === 'subject-set'
                  ? { type: edges.subjectType, id: subjects.id(n), relation: edges.subjectRelation }
                  : { type: edges.subjectType, id: subjects.id(n) };
            yield {
              resource: { type: slot.resourceType, id: resources.id(r) },
              relation: slot.relation,
              subject,
            };
          }
        }
      }
    }
    for (const edge of this.attributed.all()) yield edge.relationship;
  }

  /**
   * Adds a relationship; returns false if it was already present. Throws InvalidArgumentError
   * if the schema does not allow it (the service validates first; this keeps the index sound).
   */
  add(rel: Relationship): boolean {
    const edges = this.edgesFor(rel);
    const resource = this.interners.get(rel.resource.type)!.intern(rel.resource.id);
    const subject =
      rel.subject.id === WILDCARD_ID
        ? WILDCARD_SUBJECT
        : this.interners.get(rel.subject.type)!.intern(rel.subject.id);
    // A touch replaces a relationship's condition and expiry: one identity lives on one side.
    if (hasAttributes(rel)) return this.addAttributed(rel, edges, resource, subject);
    if (this.attributed.size !== 0 && this.attributed.delete(rel, resource)) {
      this.count--;
      this.mutations++;
    }
    return this.addEdge(edges, resource, subject);
  }

  private addEdge(edges: EdgeSet, resource: number, subject: number): boolean {
    if (!edges.add(resource, subject)) return false;
    this.count++;
    this.mutations++;
    if (edges.closure !== undefined) edges.closure.edgeAdded(subject, resource);
    return true;
  }

  private addAttributed(rel: Relationship, edges: EdgeSet, resource: number, subject: number): boolean {
    if (this.removeEdge(edges, resource, subject)) this.count--;
    const added = this.attributed.put({ relationship: rel, resource, subject });
    if (added) this.count++;
    this.mutations++;
    return added;
  }

  private removeEdge(edges: EdgeSet, resource: number, subject: number): boolean {
    if (!edges.remove(resource, subject)) return false;
    if (edges.closure !== undefined) edges.closure.edgeRemoved(subject, resource);
    return true;
  }

  /** Removes a relationship (whatever its condition or expiry); returns false if it was not present. */
  remove(rel: Relationship): boolean {
    const edges = this.edgesFor(rel);
    const resource = this.interners.get(rel.resource.type)!.lookup(rel.resource.id);
    const subject =
      rel.subject.id === WILDCARD_ID
        ? WILDCARD_SUBJECT
        : this.interners.get(rel.subject.type)!.lookup(rel.subject.id);
    if (resource === NOT_INTERNED || subject === NOT_INTERNED) return false;
    if (this.attributed.size !== 0 && this.attributed.delete(rel, resource)) {
      this.count--;
      this.mutations++;
      return true;
    }
    if (!edges.remove(resource, subject)) return false;
    this.count--;
    this.mutations++;
    if (edges.closure !== undefined) edges.closure.edgeRemoved(subject, resource);
    return true;
  }

  /**
   * Applies one committed revision. Change sets must arrive in revision order: one at or below
   * the current revision is refused (it was applied already, or arrived out of order).
   */
  apply(changeSet: ChangeSet): void {
    if (changeSet.revision <= this.currentRevision) {
      throw new FailedPreconditionError(
        `change set for revision ${changeSet.revision} is not newer than the index revision ${this.currentRevision}; apply change sets once each, in revision order`,
      );
    }
    for (const change of changeSet.changes) {
      if (change.operation === 'insert') this.add(change.relationship);
      else this.remove(change.relationship);
    }
    this.currentRevision = changeSet.revision;
  }

  private edgesFor(rel: Relationship): EdgeSet {
    const slot = this.slotsByType.get(rel.resource.type)?.get(rel.relation);
    if (slot === undefined) {
      const what = this.interners.has(rel.resource.type)
        ? `type '${rel.resource.type}' has no relation '${rel.relation}'`
        : `the schema has no type '${rel.resource.type}'`;
      throw new InvalidArgumentError(`relationship '${formatRelationship(rel)}' is not allowed: ${what}`, {
        field: 'relationship',
      });
    }
    const s = rel.subject;
    const entry = slot.bySubjectType.get(s.type);
    const edges =
      entry === undefined
        ? undefined
        : s.id === WILDCARD_ID
          ? entry.wildcard
          : s.relation === undefined || s.relation === ''
            ? entry.object
            : entry.sets.get(s.relation);
    if (edges === undefined) {
      const allowed = [...slot.byKind.keys()].join(' or ');
      throw new InvalidArgumentError(
        `relationship '${formatRelationship(rel)}' is not allowed: ${rel.resource.type}#${rel.relation} accepts ${allowed}, not '${subjectKey(s)}'`,
        { field: 'relationship' },
      );
    }
    return edges;
  }
}
