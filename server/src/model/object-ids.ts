// One numbering of object types and ids, shared by the memory store and the graph built from it,
// so the process holds each id string, and each id's hash slot, once: the store keeps its rows as
// numbers from here and the graph's adjacency is indexed by the same numbers. Numbers are never
// reused (as IdInterner promises), so either side may hold them for as long as it likes.
import { IdInterner } from './id-interner.js';
import type { Relationship } from './relationship.js';

/**
 * How a store that numbers ids with an ObjectIds hands its relationships to a graph that adopted
 * the same numbering, without an object per relationship: `numbered` for a plain relationship
 * (`subject` < 0 for a wildcard), `relationship` for one with a condition or expiry.
 */
export interface NumberedRelationshipVisitor {
  numbered(
    resourceType: string,
    resource: number,
    relation: string,
    subjectType: string,
    subject: number,
    subjectRelation: string | undefined,
  ): void;
  relationship(r: Relationship): void;
}

/** Returned by `typeNumber` lookups for a type never numbered. */
export const NO_TYPE = -1;

export class ObjectIds {
  private readonly names: string[] = [];
  private readonly numbers = new Map<string, number>();
  private readonly interners: IdInterner[] = [];

  /** The number of `type`, assigning the next one (and an empty interner) if it is new. */
  internType(type: string): number {
    let n = this.numbers.get(type);
    if (n === undefined) {
      n = this.names.length;
      this.names.push(type);
      this.interners.push(new IdInterner());
      this.numbers.set(type, n);
    }
    return n;
  }

  /** The number of `type`, or NO_TYPE. */
  typeNumber(type: string): number {
    return this.numbers.get(type) ?? NO_TYPE;
  }

  /** The type numbered `n`. */
  typeName(n: number): string {
    return this.names[n] as string;
  }

  /** The id numbering of the type numbered `n`. */
  internerOf(n: number): IdInterner {
    return this.interners[n] as IdInterner;
  }

  /** The id numbering of `type`, created empty if the type is new. */
  interner(type: string): IdInterner {
    return this.interners[this.internType(type)] as IdInterner;
  }

  /** How many types are numbered: valid type numbers are `0 .. typeCount - 1`. */
  get typeCount(): number {
    return this.names.length;
  }
}
