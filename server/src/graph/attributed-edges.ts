// Relationships with a condition or an expiry, kept out of the adjacency and the group closures:
// whether they grant depends on the request (its context, its time), so the precomputed
// structures stay exact for the unconditional graph and checks that never meet one stay as fast.
import type { Relationship } from '../model/relationship.js';
import { relationshipKey } from '../model/relationship.js';

/** One attributed relationship, with its ends numbered by the index's interners. */
export interface AttributedEdge {
  readonly relationship: Relationship;
  readonly resource: number;
  /** The subject's number, or WILDCARD_SUBJECT for `type:*`. */
  readonly subject: number;
}

/** The attributed relationships of one `type#relation`, by resource number. */
export class AttributedRelation {
  private readonly byResource = new Map<number, AttributedEdge[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The edges leaving `resource` (empty array when none). Do not mutate. */
  from(resource: number): readonly AttributedEdge[] {
    return this.byResource.get(resource) ?? NONE;
  }

  /** Every edge, for snapshots and lookups. */
  *all(): Generator<AttributedEdge> {
    for (const edges of this.byResource.values()) yield* edges;
  }

  /** Adds or replaces (same identity) an edge; returns true when it was new. */
  put(edge: AttributedEdge, key: string): boolean {
    let list = this.byResource.get(edge.resource);
    if (list === undefined) {
      list = [];
      this.byResource.set(edge.resource, list);
    }
    const at = list.findIndex((e) => relationshipKey(e.relationship) === key);
    if (at >= 0) {
      list[at] = edge;
      return false;
    }
    list.push(edge);
    this.count++;
    return true;
  }

  /** Removes the edge with this identity; returns true when there was one. */
  delete(resource: number, key: string): boolean {
    const list = this.byResource.get(resource);
    if (list === undefined) return false;
    const at = list.findIndex((e) => relationshipKey(e.relationship) === key);
    if (at < 0) return false;
    list.splice(at, 1);
    if (list.length === 0) this.byResource.delete(resource);
    this.count--;
    return true;
  }
}

const NONE: readonly AttributedEdge[] = Object.freeze([]);

/**
 * Every attributed relationship of an index, by `type#relation`. `version` changes when a
 * relation gains its first or loses its last one, so callers can cache "does this query touch
 * any?" until it moves.
 */
export class AttributedEdges {
  private readonly relations = new Map<string, AttributedRelation>();
  /** How many attributed relationships there are: a plain field, read on every check. */
  size = 0;
  private shape = 0;

  get version(): number {
    return this.shape;
  }

  /** The attributed edges of `type#relation`, or undefined when it never had any. */
  relation(type: string, relation: string): AttributedRelation | undefined {
    return this.relations.get(`${type}#${relation}`);
  }

  /** True when `type#relation` holds at least one attributed relationship. */
  has(slotKey: string): boolean {
    return (this.relations.get(slotKey)?.size ?? 0) > 0;
  }

  put(edge: AttributedEdge): boolean {
    const r = edge.relationship;
    const slotKey = `${r.resource.type}#${r.relation}`;
    let rel = this.relations.get(slotKey);
    if (rel === undefined) {
      rel = new AttributedRelation();
      this.relations.set(slotKey, rel);
    }
    const added = rel.put(edge, relationshipKey(r));
    if (added) {
      if (rel.size === 1) this.shape++;
      this.size++;
    }
    return added;
  }

  delete(relationship: Relationship, resource: number): boolean {
    const rel = this.relations.get(`${relationship.resource.type}#${relationship.relation}`);
    if (rel === undefined || !rel.delete(resource, relationshipKey(relationship))) return false;
    if (rel.size === 0) this.shape++;
    this.size--;
    return true;
  }

  *all(): Generator<AttributedEdge> {
    for (const rel of this.relations.values()) yield* rel.all();
  }
}
