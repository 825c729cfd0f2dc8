// The canonical JSON form of a compiled schema: every list sorted by name so the form (and the
// sha256 hash computed from it) does not depend on file or declaration order. Served by
// ReadSchema and used to key compiled snapshots across replicas.
import { createHash } from 'node:crypto';
import { formatSubject } from '../model/relationship.js';
import { formatParameterType } from './cel-condition.js';
import { formatAllowedSubject, formatExpression } from './format-expression.js';
import type { AllowedSubject, ConditionDef, Expr, MissingContextRule, ObjectTypeDef } from './schema.js';

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

export interface CanonicalCondition {
  readonly name: string;
  /** `name: type` pairs, in declaration order (the order CEL sees them does not matter). */
  readonly parameters: readonly string[];
  readonly expression: string;
}

export interface CanonicalSchema {
  readonly types: readonly CanonicalType[];
  /** Present only when the schema declares conditions, so older schemas keep their hash. */
  readonly conditions?: readonly CanonicalCondition[];
  /** Present only when not the default (`partial`): it changes answers, so it is part of the hash. */
  readonly missingContext?: MissingContextRule;
}

/** `user`, and `user with c` for each condition it may carry: the entries as written in a type list. */
export function allowedEntries(a: AllowedSubject): string[] {
  const base = formatAllowedSubject(a);
  const withConditions = (a.conditions ?? []).map((c) => `${base} with ${c}`);
  return a.requiresCondition === true ? withConditions : [base, ...withConditions];
}

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Copies a plan with keys in a fixed order, so JSON.stringify output is canonical. */
function canonicalPlan(e: Expr): Expr {
  switch (e.op) {
    case 'ref':
      return { op: 'ref', name: e.name, target: e.target };
    case 'arrow':
    case 'allArrow':
      return { op: e.op, via: e.via, name: e.name };
    case 'union':
    case 'intersection':
      return { op: e.op, operands: e.operands.map(canonicalPlan) };
    case 'exclusion':
      return { op: 'exclusion', base: canonicalPlan(e.base), subtract: canonicalPlan(e.subtract) };
  }
}

export function canonicalSchema(
  types: Iterable<ObjectTypeDef>,
  conditions: Iterable<ConditionDef> = [],
  missingContext: MissingContextRule = 'partial',
): CanonicalSchema {
  const out: CanonicalType[] = [];
  for (const t of types) {
    const relations = [...t.relations.values()]
      .map((r): CanonicalRelation => {
        const types = r.allowed.flatMap(allowedEntries).sort();
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
  const canonicalConditions = [...conditions]
    .map(
      (c): CanonicalCondition => ({
        name: c.name,
        parameters: [...c.parameters].map(([n, t]) => `${n}: ${formatParameterType(t)}`),
        expression: c.expression,
      }),
    )
    .sort(byName);
  const base: CanonicalSchema =
    canonicalConditions.length === 0
      ? { types: out.sort(byName) }
      : { types: out.sort(byName), conditions: canonicalConditions };
  return missingContext === 'partial' ? base : { ...base, missingContext };
}

/** Hex sha256 of the canonical JSON. */
export function schemaHash(canonical: CanonicalSchema): string {
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
