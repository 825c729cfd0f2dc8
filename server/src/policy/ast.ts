// The source AST of policy files: what the parser produces and the compilers consume. Every
// node carries the position and JSONPath-like path of the text it came from; type names are
// already resolved to their full namespaced form.
import type { SourcePosition } from '../errors.js';

/** Where a node came from: `path` is JSONPath-like, e.g. `$.types.contact.permissions.view`. */
export interface Located {
  readonly position: SourcePosition;
  readonly path: string;
}

/** A permission expression as written. Names are not resolved yet. */
export type ExprAst =
  | { readonly op: 'ref'; readonly name: string; readonly position: SourcePosition }
  | {
      readonly op: 'arrow';
      readonly via: string;
      readonly name: string;
      readonly position: SourcePosition;
      /** Where the name after `->` starts, for problems about the target. */
      readonly namePosition: SourcePosition;
    }
  | {
      /** `via.all(name)`: true when `name` holds on every object relation `via` names (and it names one). */
      readonly op: 'allArrow';
      readonly via: string;
      readonly name: string;
      readonly position: SourcePosition;
      /** Where the name inside `.all(…)` starts, for problems about the target. */
      readonly namePosition: SourcePosition;
    }
  | {
      readonly op: 'union' | 'intersection';
      readonly operands: readonly ExprAst[];
      readonly position: SourcePosition;
    }
  | {
      readonly op: 'exclusion';
      readonly base: ExprAst;
      readonly subtract: ExprAst;
      readonly position: SourcePosition;
    };

/** One entry of a relation's type list: `user`, `group#member` or `user:*`. */
export interface SubjectTypeAst {
  /** Full type name, namespace applied. */
  readonly type: string;
  readonly relation?: string | undefined;
  readonly wildcard: boolean;
  /** `user with ip_allowlist`: the condition a relationship of this kind carries. */
  readonly condition?: string | undefined;
  /** The entry as written, for messages. */
  readonly source: string;
  readonly position: SourcePosition;
}

/** A declared condition parameter: `ip: ipaddress`. */
export interface ConditionParameterAst {
  readonly name: string;
  readonly type: string;
  readonly position: SourcePosition;
}

/** A named condition of a schema file: typed parameters and a CEL expression. */
export interface ConditionAst extends Located {
  readonly name: string;
  readonly parameters: readonly ConditionParameterAst[];
  readonly expression: StringNode;
  /** File position of an offset into the expression text (CEL errors point inside it). */
  readonly positionAt: (offset: number) => SourcePosition;
}

/** A string value with its location: relationship strings, subjects, check tuples. */
export interface StringNode extends Located {
  readonly text: string;
  /**
   * Where character 0 of `text` is, when character i is i columns after it (a single-line
   * scalar without escapes), so problems can point inside the string; absent otherwise.
   */
  readonly textPosition?: SourcePosition | undefined;
}

export interface RelationAst extends Located {
  readonly name: string;
  readonly allowed: readonly SubjectTypeAst[];
  /** `if_emptied_by_delete`, unparsed: it is checked against the relation once types are known. */
  readonly ifEmptiedByDelete?: StringNode | undefined;
}

export interface PermissionAst extends Located {
  readonly name: string;
  readonly expr: ExprAst;
}

export interface TypeAst extends Located {
  /** Name as written in the file (the `types:` key). */
  readonly localName: string;
  /** Full name: `namespace/localName`, or `localName` in a file without namespace. */
  readonly name: string;
  readonly relations: readonly RelationAst[];
  readonly permissions: readonly PermissionAst[];
}

interface FileAstBase {
  readonly path: string;
  readonly namespace?: string | undefined;
}

export interface SchemaFileAst extends FileAstBase {
  readonly kind: 'schema';
  readonly types: readonly TypeAst[];
  /** Named conditions (absent in files that declare none). */
  readonly conditions?: readonly ConditionAst[] | undefined;
  /** `missing_context: partial|strict`: how a condition lacking a parameter answers (compile-conditions.ts). */
  readonly missingContext?: StringNode | undefined;
}

export interface RelationshipsFileAst extends FileAstBase {
  readonly kind: 'relationships';
  readonly relationships: readonly StringNode[];
  /** `file: data.txt`: a bulk file of relationship strings, streamed when the data is loaded. */
  readonly file?: StringNode | undefined;
}

/** What a check in a test file may bring besides its question (see RequestFacts). */
export interface CheckFactsAst {
  /** `context:`, a mapping of condition parameter values, as plain JSON. */
  readonly context?: (Located & { readonly value: Readonly<Record<string, unknown>> }) | undefined;
  /** `now:`, the request time (RFC 3339) expiry is judged against. */
  readonly now?: StringNode | undefined;
  /** `contextual_relationships:`, holding for this check only. */
  readonly contextual?: readonly StringNode[] | undefined;
  /** `missing:`, for `conditional`: the parameters the answer must name. */
  readonly missing?: readonly StringNode[] | undefined;
}

export interface CheckAssertionAst extends Located {
  readonly kind: 'allowed' | 'denied' | 'conditional';
  readonly check: StringNode;
  readonly facts?: CheckFactsAst | undefined;
}

export interface LookupAst extends Located {
  readonly kind: 'resources' | 'subjects';
  readonly query: StringNode;
  /** The exact list of allowed results. */
  readonly expect: readonly StringNode[];
  /** `conditional:`, the exact list of conditional results (absent: not checked). */
  readonly conditional?: readonly StringNode[] | undefined;
  /** `context`, `now`, `contextual_relationships` (never `missing`). */
  readonly facts?: CheckFactsAst | undefined;
}

export type StepAst =
  | CheckAssertionAst
  | LookupAst
  | (Located & { readonly kind: 'write' | 'delete'; readonly relationships: readonly StringNode[] })
  | (Located & { readonly kind: 'delete_object'; readonly object: StringNode });

export interface TestFileAst extends FileAstBase {
  readonly kind: 'test';
  readonly name: string;
  readonly relationships: readonly StringNode[];
  readonly assertions: readonly CheckAssertionAst[];
  readonly lookups: readonly LookupAst[];
  readonly steps: readonly StepAst[];
}

export type PolicyFileAst = SchemaFileAst | RelationshipsFileAst | TestFileAst;
