// The stored relationships of one (resource type, relation, subject kind) triple, indexed both
// ways: resource → subjects for checks, subject → resources for lookups and group ancestry.
import { Adjacency } from './adjacency.js';
import type { GroupClosure } from './group-closure.js';

/** The subject number every wildcard relationship (`type:*`) is stored under. */
export const WILDCARD_SUBJECT = 0;

/** Forward lists up to this long are scanned without looking at the reverse side. */
const SHORT_LIST = 8;

/** What kind of subject an edge set holds. */
export type SubjectKind = 'object' | 'subject-set' | 'wildcard';

export class EdgeSet {
  /** Set by the index when this is the self-nesting edge set of a relation with a closure. */
  closure: GroupClosure | undefined = undefined;

  constructor(
    /** The resource type, as in the schema. */
    readonly resourceType: string,
    readonly relation: string,
    /** The subject type. */
    readonly subjectType: string,
    /** The subject relation, for subject sets; '' otherwise. */
    readonly subjectRelation: string,
    readonly kind: SubjectKind,
    /** resource number → subject numbers (a column of the resource type's table, or its own). */
    readonly forward: Adjacency = new Adjacency(),
    /** subject number → resource numbers. */
    readonly reverse: Adjacency = new Adjacency(),
  ) {}

  /**
   * Whether the edge exists. Short forward lists (the common case: a document's owner or
   * groups) are scanned directly; otherwise the shorter of the two sides is.
   */
  has(resource: number, subject: number): boolean {
    const f = this.forward.degree(resource);
    if (f === 0) return false;
    if (f <= SHORT_LIST) return this.forward.has(resource, subject);
    const r = this.reverse.degree(subject);
    if (r === 0) return false;
    return f <= r ? this.forward.has(resource, subject) : this.reverse.has(subject, resource);
  }

  /** Adds the edge; returns false if it was already there. */
  add(resource: number, subject: number): boolean {
    if (this.has(resource, subject)) return false;
    this.forward.add(resource, subject);
    this.reverse.add(subject, resource);
    return true;
  }

  /** Removes the edge; returns false if it was not there. */
  remove(resource: number, subject: number): boolean {
    if (!this.forward.remove(resource, subject)) return false;
    this.reverse.remove(subject, resource);
    return true;
  }

  get size(): number {
    return this.forward.size;
  }
}
