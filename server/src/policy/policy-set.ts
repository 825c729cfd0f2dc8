// A loaded, validated policy set: the compiled schema plus the relationships and tests its
// files declare, each with its source position. Produced by compilePolicySet
// (server/src/policy/compile-policy-set.ts); consumed by the CLI, the test runner and serve.
import type { RequestFacts } from '../engine/types.js';
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
  readonly kind: 'allowed' | 'denied' | 'conditional';
  /** Fully namespaced; validated against the schema. */
  readonly check: CheckTuple;
  /** Context, request time and contextual relationships the check is asked with. */
  readonly facts?: RequestFacts | undefined;
  /** For `conditional`: the parameters the answer must name (unchecked when absent). */
  readonly missing?: readonly string[] | undefined;
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
  /** The exact set of conditional results; unchecked when absent. */
  readonly conditional?: readonly ObjectRef[] | undefined;
  /** Context, request time and contextual relationships the lookup is asked with. */
  readonly facts?: RequestFacts | undefined;
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
  /** The exact set of conditional subjects, `type:*` for the wildcard's; unchecked when absent. */
  readonly conditional?: readonly SubjectRef[] | undefined;
  /** Context, request time and contextual relationships the lookup is asked with. */
  readonly facts?: RequestFacts | undefined;
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
  /**
   * Bulk relationship files (`kind: relationships` with `file:`), in file order: not read by
   * the compiler, streamed by `policyRelationshipChunks` (server/src/policy/relationship-file.ts).
   */
  readonly relationshipFiles?: readonly RelationshipFileRef[] | undefined;
  /** The policy directory the set was loaded from: relationship files are resolved inside it. */
  readonly root?: string | undefined;
}

/** A `file:` reference of a relationships file, as written, with where it was written. */
export interface RelationshipFileRef {
  /** The policy file that names it (relative to the policy root, `/` separators). */
  readonly policyFile: string;
  /** The bulk file's path as written, relative to the policy file's directory. */
  readonly file: string;
  readonly namespace: string | undefined;
  readonly position: SourcePosition;
}
