// Builds compiled Schema objects from compact literals for engine tests, without the policy
// parser: relations as `user | group#member | user:*`, permissions with the expression helpers.
import type {
  AllowedSubject,
  Expr,
  ObjectTypeDef,
  PermissionDef,
  RelationDef,
  Schema,
} from '../../server/src/schema/schema.js';

/** A permission expression before `ref` targets are known. */
export type ExprSpec =
  | { readonly op: 'ref'; readonly name: string }
  | { readonly op: 'arrow' | 'allArrow'; readonly via: string; readonly name: string }
  | { readonly op: 'union' | 'intersection'; readonly operands: readonly ExprSpec[] }
  | { readonly op: 'exclusion'; readonly base: ExprSpec; readonly subtract: ExprSpec };

export const ref = (name: string): ExprSpec => ({ op: 'ref', name });
export const arrow = (via: string, name: string): ExprSpec => ({ op: 'arrow', via, name });
/** `via.all(name)`: the intersection arrow. */
export const allArrow = (via: string, name: string): ExprSpec => ({ op: 'allArrow', via, name });
export const or = (...operands: ExprSpec[]): ExprSpec => ({ op: 'union', operands });
export const and = (...operands: ExprSpec[]): ExprSpec => ({ op: 'intersection', operands });
export const butNot = (base: ExprSpec, subtract: ExprSpec): ExprSpec => ({ op: 'exclusion', base, subtract });

export interface TypeSpec {
  readonly relations?: Readonly<Record<string, string>>;
  readonly permissions?: Readonly<Record<string, ExprSpec>>;
}

export function parseAllowed(text: string): AllowedSubject[] {
  return text.split('|').map((part) => {
    const t = part.trim();
    if (t.endsWith(':*')) return { type: t.slice(0, -2), wildcard: true };
    const [type, relation] = t.split('#') as [string, string | undefined];
    return relation === undefined ? { type, wildcard: false } : { type, relation, wildcard: false };
  });
}

function resolve(e: ExprSpec, relations: ReadonlyMap<string, RelationDef>): Expr {
  switch (e.op) {
    case 'ref':
      return { op: 'ref', name: e.name, target: relations.has(e.name) ? 'relation' : 'permission' };
    case 'arrow':
    case 'allArrow':
      return e;
    case 'union':
    case 'intersection':
      return { op: e.op, operands: e.operands.map((o) => resolve(o, relations)) };
    case 'exclusion':
      return { op: 'exclusion', base: resolve(e.base, relations), subtract: resolve(e.subtract, relations) };
  }
}

let counter = 0;

/** A Schema from literals. The caller is trusted to respect the invariants schema.ts documents. */
export function defineSchema(spec: Readonly<Record<string, TypeSpec>>): Schema {
  const types = new Map<string, ObjectTypeDef>();
  for (const [name, t] of Object.entries(spec)) {
    const relations = new Map<string, RelationDef>();
    for (const [rel, allowed] of Object.entries(t.relations ?? {})) {
      relations.set(rel, { kind: 'relation', name: rel, allowed: parseAllowed(allowed) });
    }
    const permissions = new Map<string, PermissionDef>();
    for (const [perm, expr] of Object.entries(t.permissions ?? {})) {
      permissions.set(perm, { kind: 'permission', name: perm, expr: resolve(expr, relations) });
    }
    types.set(name, { name, relations, permissions });
  }
  counter++;
  return { types, hash: `test-schema-${counter}` };
}
