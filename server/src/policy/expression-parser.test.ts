// Expression parser: precedence, associativity, arrows, and positioned syntax problems.
import { describe, expect, it } from 'vitest';
import type { ExprAst } from './ast.js';
import type { StringParseContext } from './expression-parser.js';
import { parseExpression } from './expression-parser.js';

/** A context mapping offset i to column i + 1 of line 1, recording problems as `column: message`. */
function context(): StringParseContext & { problems: string[] } {
  const problems: string[] = [];
  return {
    problems,
    positionAt: (offset) => ({ file: 'f.yaml', line: 1, column: offset + 1 }),
    report: (offset, message) => problems.push(`${offset + 1}: ${message}`),
  };
}

/** Fully parenthesised rendering, so tests show exactly how the parser grouped the operands. */
function show(e: ExprAst): string {
  switch (e.op) {
    case 'ref':
      return e.name;
    case 'arrow':
      return `${e.via}->${e.name}`;
    case 'allArrow':
      return `${e.via}.all(${e.name})`;
    case 'union':
      return `(${e.operands.map(show).join(' | ')})`;
    case 'intersection':
      return `(${e.operands.map(show).join(' & ')})`;
    case 'exclusion':
      return `(${show(e.base)} - ${show(e.subtract)})`;
  }
}

function parsed(input: string): string {
  const ctx = context();
  const ast = parseExpression(input, ctx);
  expect(ctx.problems).toEqual([]);
  return show(ast!);
}

describe('parseExpression precedence', () => {
  it.each([
    ['a', 'a'],
    ['a or b or c', '(a | b | c)'],
    ['a and b or c', '((a & b) | c)'],
    ['a or b and c', '(a | (b & c))'],
    ['a but not b or c', '(a - (b | c))'],
    ['a or b but not c', '((a | b) - c)'],
    ['a and b but not c and d', '((a & b) - (c & d))'],
    ['a but not b but not c', '((a - b) - c)'],
    ['a but not (b but not c)', '(a - (b - c))'],
    ['(a or b) and c', '((a | b) & c)'],
    ['owner or viewer or account->administer', '(owner | viewer | account->administer)'],
    ['parent -> view and not_banned', '(parent->view & not_banned)'],
    ['((a))', 'a'],
  ])('%s parses as %s', (input, expected) => {
    expect(parsed(input)).toBe(expected);
  });

  it('positions every name at its offset in the string', () => {
    const ast = parseExpression('owner or account->edit', context());
    expect(ast?.op).toBe('union');
    const [ref, arrow] = (ast as Extract<ExprAst, { op: 'union' | 'intersection' }>).operands;
    expect(ref?.position.column).toBe(1);
    expect(arrow?.op === 'arrow' && [arrow.position.column, arrow.namePosition.column]).toEqual([10, 19]);
  });
});

describe('parseExpression syntax problems', () => {
  it.each([
    ['', "1: the expression is empty; write relation or permission names joined by 'or', 'and', 'but not'"],
    ['a or', "3: expected a name or '(' after 'or', found the end of the expression"],
    ['a and or b', "7: expected a name or '(' after 'and', found 'or'"],
    ['a but b', "7: expected 'not' after 'but', found 'b'"],
    ['(a or b', "1: '(' is never closed: expected ')' before the end of the expression"],
    ['a or b)', "7: unexpected ')' (no '(' opened it)"],
    ['a b', "3: unexpected 'b'; join terms with 'or', 'and' or 'but not'"],
    ['()', "1: empty parentheses '()'"],
    ['a->', "1: expected a relation or permission name after 'a->', found the end of the expression"],
    [
      'a->b->c',
      "5: arrows cannot be chained ('a->b->…'); define a permission for 'b->…' on the intermediate type and point the arrow at it",
    ],
    [
      'a or B',
      "6: 'B' is not a valid name; use lowercase letters, digits and '_', starting with a letter, at most 63 characters",
    ],
    [
      'crm/a',
      "1: 'crm/a' has a namespace prefix; expressions name relations and permissions of the same type, without a namespace",
    ],
    ['a | b', "3: unexpected character '|' in expression 'a | b'"],
  ])('%j reports %s', (input, problem) => {
    const ctx = context();
    expect(parseExpression(input, ctx)).toBeUndefined();
    expect(ctx.problems).toEqual([problem]);
  });
});
