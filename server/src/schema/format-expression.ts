// Renders a compiled expression back to policy syntax, with the fewest parentheses the
// precedence (`but not` < `or` < `and`) needs: for ReadSchema, messages and golden tests.
import type { AllowedSubject } from './schema.js';

/** The shape both compiled plans (Expr) and source expressions (ExprAst) share. */
export type FormattableExpr =
  | { readonly op: 'ref'; readonly name: string }
  | { readonly op: 'arrow' | 'allArrow'; readonly via: string; readonly name: string }
  | { readonly op: 'union' | 'intersection'; readonly operands: readonly FormattableExpr[] }
  | { readonly op: 'exclusion'; readonly base: FormattableExpr; readonly subtract: FormattableExpr };

function precedence(e: FormattableExpr): number {
  switch (e.op) {
    case 'exclusion':
      return 0;
    case 'union':
      return 1;
    case 'intersection':
      return 2;
    default:
      return 3;
  }
}

function wrap(e: FormattableExpr, min: number): string {
  const text = formatExpression(e);
  return precedence(e) < min ? `(${text})` : text;
}

export function formatExpression(e: FormattableExpr): string {
  switch (e.op) {
    case 'ref':
      return e.name;
    case 'arrow':
      return `${e.via}->${e.name}`;
    case 'allArrow':
      return `${e.via}.all(${e.name})`;
    case 'union':
      return e.operands.map((o) => wrap(o, 2)).join(' or ');
    case 'intersection':
      return e.operands.map((o) => wrap(o, 3)).join(' and ');
    case 'exclusion':
      // Left-associative: a nested exclusion on the left needs no parentheses, on the right it does.
      return `${wrap(e.base, 0)} but not ${wrap(e.subtract, 1)}`;
  }
}

/** `user`, `group#member` or `user:*`. */
export function formatAllowedSubject(a: AllowedSubject): string {
  if (a.wildcard) return `${a.type}:*`;
  return a.relation === undefined ? a.type : `${a.type}#${a.relation}`;
}
