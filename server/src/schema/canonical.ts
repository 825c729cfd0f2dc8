// The canonical JSON form of a compiled schema: every list sorted by name so the form (and the
// sha256 hash computed from it) does not depend on file or declaration order. Served by
// ReadSchema and used to key compiled snapshots across replicas.
import { createHash } from 'node:crypto';
import { formatSubject } from '../model/relationship.js';
import { formatAllowedSubject, formatExpression } from './format-expression.js';
import type { Expr, ObjectTypeDef } from './schema.js';

export interface CanonicalRelation {
  readonly name: string;
  /** Allowed subject types, sorted: `group#member`, `user`, `user:*`. */
  readonly types: readonly string[];
  readonly ifEmptiedByDelete?: string;
}

export interface CanonicalPermission {
  readonly name: string;
  /** The expression in policy syntax. */
  readonly expression: string;
  /** The compiled plan the engine evaluates. */
  readonly plan: Expr;
}

export interface CanonicalType {
  readonly name: string;
  readonly relations: readonly CanonicalRelation[];
  readonly permissions: readonly CanonicalPermission[];
}

export interface CanonicalSchema {
  readonly types: readonly CanonicalType[];
}

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Copies a plan with keys in a fixed order, so JSON.stringify output is canonical. */
function canonicalPlan(e: Expr): Expr {
  switch (e.op) {
    case 'ref':
      return { op: 'ref', name: e.name, target: e.target };
    case 'arrow':
      return { op: 'arrow', via: e.via, name: e.name };
    case 'union':
    case 'intersection':
      return { op: e.op, operands: e.operands.map(canonicalPlan) };
    case 'exclusion':
      return { op: 'exclusion', base: canonicalPlan(e.base), subtract: canonicalPlan(e.subtract) };
  }
}

export function canonicalSchema(types: Iterable<ObjectTypeDef>): CanonicalSchema {
  const out: CanonicalType[] = [];
  for (const t of types) {
    const relations = [...t.relations.values()]
      .map((r): CanonicalRelation => {
        const types = r.allowed.map(formatAllowedSubject).sort();
        return r.ifEmptiedByDelete === undefined
          ? { name: r.name, types }
          : { name: r.name, types, ifEmptiedByDelete: formatSubject(r.ifEmptiedByDelete) };
      })
      .sort(byName);
    const permissions = [...t.permissions.values()]
      .map(
        (p): CanonicalPermission => ({
          name: p.name,
          expression: formatExpression(p.expr),
          plan: canonicalPlan(p.expr),
        }),
      )
      .sort(byName);
    out.push({ name: t.name, relations, permissions });
  }
  return { types: out.sort(byName) };
}

/** Hex sha256 of the canonical JSON. */
export function schemaHash(canonical: CanonicalSchema): string {
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
