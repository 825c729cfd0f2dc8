// Compiles one permission expression: resolves each name to a relation or permission of the
// owning type and checks every arrow, `via->name` and `via.all(name)` alike (it starts at a
// relation without wildcards, and at least one type that relation allows defines the target).
import type { ExprAst, PermissionAst } from '../policy/ast.js';
import type { ProblemList } from '../policy/problem-list.js';
import type { DeclaredType, DeclaredTypes } from './declared-types.js';
import { didYouMean } from './did-you-mean.js';
import type { Expr } from './schema.js';

interface Scope {
  readonly owner: DeclaredType;
  readonly types: DeclaredTypes;
  readonly permission: PermissionAst;
  readonly problems: ProblemList;
}

function memberNames(t: DeclaredType, except?: string): string[] {
  return [...t.relations.keys(), ...t.permissions.keys()].filter((n) => n !== except);
}

function compileRef(e: Extract<ExprAst, { op: 'ref' }>, s: Scope): Expr | undefined {
  if (s.owner.relations.has(e.name)) return { op: 'ref', name: e.name, target: 'relation' };
  if (s.owner.permissions.has(e.name)) return { op: 'ref', name: e.name, target: 'permission' };
  s.problems.add(
    e.position,
    s.permission.path,
    `unknown relation or permission '${e.name}' on type '${s.owner.ast.name}'${didYouMean(e.name, memberNames(s.owner, s.permission.name))}`,
  );
  return undefined;
}

function compileArrow(e: Extract<ExprAst, { op: 'arrow' | 'allArrow' }>, s: Scope): Expr | undefined {
  const arrow = e.op === 'arrow' ? `${e.via}->${e.name}` : `${e.via}.all(${e.name})`;
  const via = s.owner.relations.get(e.via);
  if (via === undefined) {
    const why = s.owner.permissions.has(e.via)
      ? `'${e.via}' is a permission; an arrow must start from a relation`
      : `type '${s.owner.ast.name}' has no relation '${e.via}'${didYouMean(e.via, s.owner.relations.keys())}`;
    s.problems.add(e.position, s.permission.path, `arrow '${arrow}': ${why}`);
    return undefined;
  }
  let ok = true;
  // A wildcard names no object to walk to; SpiceDB and OpenFGA refuse it here too.
  const wildcards = via.allowed.filter((a) => a.wildcard);
  if (wildcards.length > 0) {
    s.problems.add(
      e.position,
      s.permission.path,
      `arrow '${arrow}' goes through relation '${e.via}', which allows ${wildcards.map((a) => `'${a.source}'`).join(', ')}; a wildcard names no object to follow, so remove it from '${e.via}' or add a separate relation for it`,
    );
    ok = false;
  }
  // Object types and subject sets (whose object the arrow walks to, as SpiceDB does) count; the
  // arrow is evaluated on the types that define its target and skipped on the others, as in
  // SpiceDB and OpenFGA (for `.all()`, an object of such a type fails the "every object" test,
  // as in SpiceDB). Only an arrow no allowed type can satisfy is a mistake.
  const walked = via.allowed.filter((a) => !a.wildcard && s.types.has(a.type));
  const targets = walked.filter((a) => {
    const target = s.types.get(a.type)!;
    return target.relations.has(e.name) || target.permissions.has(e.name);
  });
  if (walked.length > 0 && targets.length === 0) {
    const names = new Set<string>();
    for (const a of walked) for (const n of memberNames(s.types.get(a.type)!)) names.add(n);
    const typeNames = [...new Set(walked.map((a) => `'${a.type}'`))].join(', ');
    s.problems.add(
      e.namePosition,
      s.permission.path,
      `arrow '${arrow}': no type relation '${e.via}' allows (${typeNames}) has a relation or permission '${e.name}'${didYouMean(e.name, names)}`,
    );
    ok = false;
  }
  return ok ? { op: e.op, via: e.via, name: e.name } : undefined;
}

function compile(e: ExprAst, s: Scope): Expr | undefined {
  switch (e.op) {
    case 'ref':
      return compileRef(e, s);
    case 'arrow':
    case 'allArrow':
      return compileArrow(e, s);
    case 'union':
    case 'intersection': {
      // Compile every operand (not stopping at the first failure) so every problem is reported.
      const operands = e.operands.map((o) => compile(o, s));
      if (operands.some((o) => o === undefined)) return undefined;
      // `a or (b or c)` is one union: flatten so the engine sees one n-ary node.
      const flat = (operands as Expr[]).flatMap((o) => (o.op === e.op ? o.operands : [o]));
      return { op: e.op, operands: flat };
    }
    case 'exclusion': {
      const base = compile(e.base, s);
      const subtract = compile(e.subtract, s);
      return base === undefined || subtract === undefined ? undefined : { op: 'exclusion', base, subtract };
    }
  }
}

/** The compiled plan of `permission` on `owner`, or undefined after reporting its problems. */
export function compileExpression(
  permission: PermissionAst,
  owner: DeclaredType,
  types: DeclaredTypes,
  problems: ProblemList,
): Expr | undefined {
  return compile(permission.expr, { owner, types, permission, problems });
}
