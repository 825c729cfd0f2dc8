// A loaded, validated policy set: the compiled schema plus the relationships and tests its
// files declare, each with its source position. Produced by compilePolicySet
// (server/src/policy/compile-policy-set.ts); consumed by the CLI, the test runner and serve.
import type { PolicyProblem, SourcePosition } from '../errors.js';
import type { CheckTuple, ObjectRef, Relationship, SubjectRef } from '../model/relationship.js';
import type { Schema } from '../schema/schema.js';

/** One policy file as text. `path` is what error positions show (relative to the policy root). */
export interface PolicyFileSource {
  readonly path: string;
  readonly content: string;
}

/** A relationship with the place it was written. All type names are fully namespaced. */
export interface PositionedRelationship {
  readonly relationship: Relationship;
  readonly position: SourcePosition;
}

export interface CheckAssertion {
  readonly kind: 'allowed' | 'denied';
  /** Fully namespaced; validated against the schema. */
  readonly check: CheckTuple;
  /** The assertion as written, for messages. */
  readonly source: string;
  readonly position: SourcePosition;
}

export interface ResourcesLookupAssertion {
  readonly kind: 'resources';
  readonly resourceType: string;
  readonly permission: string;
  readonly subject: SubjectRef;
  /** The exact expected set (order ignored). */
  readonly expect: readonly ObjectRef[];
  readonly source: string;
  readonly position: SourcePosition;
}

export interface SubjectsLookupAssertion {
  readonly kind: 'subjects';
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subjectType: string;
  readonly subjectRelation?: string | undefined;
  /** The exact expected set (order ignored); a `type:*` entry expects the wildcard. */
  readonly expect: readonly SubjectRef[];
  readonly source: string;
  readonly position: SourcePosition;
}

export type LookupAssertion = ResourcesLookupAssertion | SubjectsLookupAssertion;

export type TestStep =
  | CheckAssertion
  | LookupAssertion
  | {
      readonly kind: 'write';
      readonly relationships: readonly PositionedRelationship[];
      readonly position: SourcePosition;
    }
  | {
      readonly kind: 'delete';
      readonly relationships: readonly PositionedRelationship[];
      readonly position: SourcePosition;
    }
  | { readonly kind: 'delete_object'; readonly object: ObjectRef; readonly position: SourcePosition };

export interface PolicyTestFile {
  readonly path: string;
  readonly name: string;
  /** Fixtures added on top of the policy set's relationship files. */
  readonly relationships: readonly PositionedRelationship[];
  readonly assertions: readonly CheckAssertion[];
  readonly lookups: readonly LookupAssertion[];
  readonly steps: readonly TestStep[];
}

export interface PolicySet {
  readonly schema: Schema;
  /** From every `kind: relationships` file, in file then list order. */
  readonly relationships: readonly PositionedRelationship[];
  readonly tests: readonly PolicyTestFile[];
  /** Every file that was read, for diagnostics. */
  readonly files: readonly string[];
  /**
   * Problems that leave the policy valid (a rule that can never be true), sorted by file, line
   * and column. `validate` prints them; `validate --strict` treats them as errors.
   */
  readonly warnings: readonly PolicyProblem[];
}
