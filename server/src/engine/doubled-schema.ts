// The doubled schema three-valued evaluation runs on. Every relation and permission `n` gets two
// copies: `n~lo` holds where the answer is surely true (undecided conditions count as false)
// and `n~hi` where it may be true (undecided ones count as true). `a but not b` subtracts the
// other copy (`a~lo but not b~hi`, `a~hi but not b~lo`), so `~lo`/`~hi` are the lower and upper
// bounds of Kleene's three-valued logic: allowed when `~lo` holds, denied when `~hi` does not,
// conditional in between. The doubled schema is an ordinary schema, so the engine's own plans
// (recursion, the well-founded semantics, wildcards, subject sets) evaluate it unchanged.
import type {
  AllowedSubject,
  Expr,
  ObjectTypeDef,
  PermissionDef,
  RelationDef,
  Schema,
} from '../schema/schema.js';

export type Bound = 0 | 1;
export const LOWER: Bound = 0;
export const UPPER: Bound = 1;
const SUFFIX = ['~lo', '~hi'] as const;

export function boundName(name: string, bound: Bound): string {
  return name + SUFFIX[bound];
}

/** The original name and bound of a doubled name. */
export function splitBoundName(name: string): { name: string; bound: Bound } {
  const bound: Bound = name.endsWith(SUFFIX[1]) ? UPPER : LOWER;
  return { name: name.slice(0, -SUFFIX[bound].length), bound };
}

function renameExpr(e: Expr, bound: Bound): Expr {
  switch (e.op) {
    case 'ref':
      return { op: 'ref', name: boundName(e.name, bound), target: e.target };
    case 'arrow':
    case 'allArrow':
      // `.all()` stays monotone in both its relation and its target, so each bound reads the
      // same bound of both; the relationships a bound leaves out make it fail (PlanEdgeSet.existing).
      return { op: e.op, via: boundName(e.via, bound), name: boundName(e.name, bound) };
    case 'union':
    case 'intersection':
      return { op: e.op, operands: e.operands.map((o) => renameExpr(o, bound)) };
    case 'exclusion':
      return {
        op: 'exclusion',
        base: renameExpr(e.base, bound),
        subtract: renameExpr(e.subtract, bound === LOWER ? UPPER : LOWER),
      };
  }
}

function renameAllowed(a: AllowedSubject, bound: Bound): AllowedSubject {
  return a.relation === undefined
    ? { type: a.type, wildcard: a.wildcard }
    : { type: a.type, relation: boundName(a.relation, bound), wildcard: false };
}

export function doubleSchema(schema: Schema): Schema {
  const types = new Map<string, ObjectTypeDef>();
  for (const t of schema.types.values()) {
    const relations = new Map<string, RelationDef>();
    const permissions = new Map<string, PermissionDef>();
    for (const bound of [LOWER, UPPER] as const) {
      for (const r of t.relations.values()) {
        const name = boundName(r.name, bound);
        relations.set(name, {
          kind: 'relation',
          name,
          allowed: r.allowed.map((a) => renameAllowed(a, bound)),
        });
      }
      for (const p of t.permissions.values()) {
        const name = boundName(p.name, bound);
        permissions.set(name, { kind: 'permission', name, expr: renameExpr(p.expr, bound) });
      }
    }
    types.set(t.name, { name: t.name, relations, permissions });
  }
  return { types, hash: `${schema.hash}~doubled` };
}
