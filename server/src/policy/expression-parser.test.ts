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
    ['parent.all(view) or owner', '(parent.all(view) | owner)'],
    ['team.all(member) and parent->view', '(team.all(member) & parent->view)'],
    ['team . all ( member )', 'team.all(member)'],
    ['all.all(all)', 'all.all(all)'],
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

  it('positions an all-arrow at its relation and its target', () => {
    const ast = parseExpression('owner or team.all(member)', context());
    const all = (ast as Extract<ExprAst, { op: 'union' | 'intersection' }>).operands[1];
    expect(all?.op === 'allArrow' && [all.position.column, all.namePosition.column]).toEqual([10, 19]);
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
    [
      'team.',
      "5: expected 'all' after 'team.', found the end of the expression; write 'team.all(name)' (every object) or 'team->name' (any object)",
    ],
    [
      'team.any(member)',
      `6: expected 'all' after 'team.', found 'any'; write 'team->…' for "any object", as SpiceDB's '.any(…)' means`,
    ],
    ['team.all', "6: expected '(' after 'team.all', found the end of the expression; write 'team.all(name)'"],
    ['team.all member', "10: expected '(' after 'team.all', found 'member'; write 'team.all(name)'"],
    ['team.all()', "10: expected a relation or permission name inside 'team.all(…)', found ')'"],
    [
      'team.all(member',
      "9: 'team.all(' is never closed: expected ')' after 'member', found the end of the expression",
    ],
    [
      'team.all(member)->x',
      "17: arrows cannot be chained ('team.all(member)->…'); define a permission for 'member->…' on the intermediate type and point the arrow at it",
    ],
    [
      'a->b.all(c)',
      "5: arrows cannot be chained ('a->b.…'); define a permission for 'b.…' on the intermediate type and point the arrow at it",
    ],
    [
      'team.all(Member)',
      "10: 'Member' is not a valid name; use lowercase letters, digits and '_', starting with a letter, at most 63 characters",
    ],
  ])('%j reports %s', (input, problem) => {
    const ctx = context();
    expect(parseExpression(input, ctx)).toBeUndefined();
    expect(ctx.problems).toEqual([problem]);
  });
});
