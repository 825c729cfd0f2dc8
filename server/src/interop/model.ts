// The model an importer builds from another system's schema, before it is written as Gatehouse
// policy files: types with relations (allowed subject types) and permissions (expressions),
// a comment per construct saying what it came from, and every construct that could not be
// imported, so nothing is dropped silently.
import type { FormattableExpr } from '../schema/format-expression.js';

export interface ImportedRelation {
  readonly name: string;
  /** `user`, `group#member`, `user:*`: full type names. */
  readonly allowed: readonly string[];
  /** What it came from, in the source syntax. */
  readonly comment: string;
}

export interface ImportedPermission {
  readonly name: string;
  readonly expr: FormattableExpr;
  readonly comment: string;
}

export interface ImportedType {
  /** Full name, `ns/name` or `name`. */
  readonly name: string;
  readonly relations: ImportedRelation[];
  readonly permissions: ImportedPermission[];
  /** Set when the type was renamed on import. */
  readonly comment?: string | undefined;
}

/** Something the source uses that Gatehouse cannot express yet: reported, never dropped silently. */
export interface Unsupported {
  /** The feature, for tables: `condition`, `caveat`, `expiration`, `all-arrow`, … */
  readonly feature: string;
  /** Where: `document#viewer`, a line, a tuple. */
  readonly where: string;
  readonly detail: string;
}

/** A named CEL condition (OpenFGA condition, SpiceDB caveat), its expression carried as is. */
export interface ImportedCondition {
  readonly name: string;
  /** Parameter name → type in Gatehouse's spelling (`int`, `list<string>`, `ipaddress`…), in order. */
  readonly parameters: readonly (readonly [string, string])[];
  readonly expression: string;
  readonly comment: string;
}

export interface ImportedModel {
  readonly types: ImportedType[];
  /** Conditions the relations name (`user with NAME`); global, like Gatehouse's. */
  readonly conditions: ImportedCondition[];
  /**
   * The source system's rule for a condition lacking a parameter (schema.ts MissingContextRule):
   * `strict` for OpenFGA; absent for SpiceDB, whose rule is Gatehouse's default.
   */
  readonly missingContext?: 'strict' | undefined;
  /**
   * Relations whose stored tuples Gatehouse keeps under another name (`viewer` →
   * `viewer_direct` when OpenFGA's `viewer` is both assignable and computed): `type#from` → `to`.
   */
  readonly storedAs: Map<string, string>;
  /** Source type names Gatehouse does not accept (`scopeA`) → the names used (`scope_a`). */
  readonly typeNames: Map<string, string>;
  readonly unsupported: Unsupported[];
}

/** `a` is a free relation/permission name on `type`: add `_direct` (and more `_`) until it is. */
export function freeName(
  type: ImportedType | { relations: { name: string }[]; permissions: { name: string }[] },
  base: string,
  reserved: ReadonlySet<string> = new Set(),
): string {
  const taken = new Set([
    ...type.relations.map((r) => r.name),
    ...type.permissions.map((p) => p.name),
    ...reserved,
  ]);
  let name = base;
  while (taken.has(name)) name += '_';
  return name;
}
