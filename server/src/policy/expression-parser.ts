// Recursive-descent parser for permission expressions: names, `rel->name`, `rel.all(name)`,
// `or`, `and`, `but not` and parentheses. Precedence, loosest first: `but not`, `or`, `and`.
//
//   expr    := union ('but' 'not' union)*        left-associative
//   union   := inter ('or' inter)*
//   inter   := primary ('and' primary)*
//   primary := '(' expr ')' | NAME ('->' NAME | '.' 'all' '(' NAME ')')?
import type { SourcePosition } from '../errors.js';
import { RELATION_NAME_PATTERN } from '../model/relationship.js';
import type { ExprAst } from './ast.js';
import type { Token, TokenKind } from './lexer.js';
import { describeToken, tokenize } from './lexer.js';

/** Maps offsets in the parsed string to file positions and receives syntax problems. */
export interface StringParseContext {
  positionAt(offset: number): SourcePosition;
  report(offset: number, message: string): void;
}

class SyntaxProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** Why `text` is not a valid relation or permission name, or undefined if it is one. */
export function relationNameProblem(text: string): string | undefined {
  if (RELATION_NAME_PATTERN.test(text)) return undefined;
  if (text.includes('/')) {
    return `'${text}' has a namespace prefix; expressions name relations and permissions of the same type, without a namespace`;
  }
  return `'${text}' is not a valid name; use lowercase letters, digits and '_', starting with a letter, at most 63 characters`;
}

class ExpressionParser {
  private index = 0;
  constructor(
    private readonly tokens: readonly Token[],
    private readonly ctx: StringParseContext,
  ) {}

  parse(): ExprAst {
    if (this.peek().kind === 'end') {
      throw new SyntaxProblem(
        0,
        "the expression is empty; write relation or permission names joined by 'or', 'and', 'but not'",
      );
    }
    const expr = this.exclusion();
    const next = this.peek();
    if (next.kind !== 'end') {
      const hint =
        next.kind === 'rparen' ? " (no '(' opened it)" : "; join terms with 'or', 'and' or 'but not'";
      throw new SyntaxProblem(next.offset, `unexpected ${describeToken(next)}${hint}`);
    }
    return expr;
  }

  private exclusion(): ExprAst {
    let base = this.union();
    while (this.peek().kind === 'but') {
      const but = this.take();
      if (this.peek().kind !== 'not') {
        throw new SyntaxProblem(
          this.peek().offset,
          `expected 'not' after 'but', found ${describeToken(this.peek())}`,
        );
      }
      this.take();
      this.expectOperand('but not', but);
      const subtract = this.union();
      base = { op: 'exclusion', base, subtract, position: base.position };
    }
    return base;
  }

  private union(): ExprAst {
    return this.nary('or', 'union', () => this.intersection());
  }

  private intersection(): ExprAst {
    return this.nary('and', 'intersection', () => this.primary());
  }

  private nary(keyword: TokenKind, op: 'union' | 'intersection', operand: () => ExprAst): ExprAst {
    const first = operand();
    const operands = [first];
    while (this.peek().kind === keyword) {
      const kw = this.take();
      this.expectOperand(kw.text, kw);
      operands.push(operand());
    }
    return operands.length === 1 ? first : { op, operands, position: first.position };
  }

  private expectOperand(operator: string, after: Token): void {
    const next = this.peek();
    if (next.kind !== 'name' && next.kind !== 'lparen') {
      const offset = next.kind === 'end' ? after.offset : next.offset;
      throw new SyntaxProblem(
        offset,
        `expected a name or '(' after '${operator}', found ${describeToken(next)}`,
      );
    }
  }

  private primary(): ExprAst {
    const token = this.take();
    if (token.kind === 'lparen') {
      if (this.peek().kind === 'rparen') throw new SyntaxProblem(token.offset, "empty parentheses '()'");
      const inner = this.exclusion();
      const close = this.peek();
      if (close.kind !== 'rparen') {
        throw new SyntaxProblem(
          token.offset,
          `'(' is never closed: expected ')' before ${describeToken(close)}`,
        );
      }
      this.take();
      return inner;
    }
    if (token.kind !== 'name') {
      throw new SyntaxProblem(
        token.offset,
        `expected a relation or permission name, found ${describeToken(token)}`,
      );
    }
    this.checkName(token);
    if (this.peek().kind === 'dot') return this.allArrow(token);
    if (this.peek().kind !== 'arrow') {
      return { op: 'ref', name: token.text, position: this.ctx.positionAt(token.offset) };
    }
    this.take();
    const target = this.take();
    if (target.kind !== 'name') {
      throw new SyntaxProblem(
        target.kind === 'end' ? token.offset : target.offset,
        `expected a relation or permission name after '${token.text}->', found ${describeToken(target)}`,
      );
    }
    this.checkName(target);
    this.refuseChain(`${token.text}->${target.text}`, target.text);
    return {
      op: 'arrow',
      via: token.text,
      name: target.text,
      position: this.ctx.positionAt(token.offset),
      namePosition: this.ctx.positionAt(target.offset),
    };
  }

  /** `via.all(name)`, after `via`: the intersection arrow. */
  private allArrow(via: Token): ExprAst {
    const dot = this.take();
    const fn = this.peek();
    if (fn.kind !== 'name' || fn.text !== 'all') {
      const found = describeToken(fn);
      const hint =
        fn.kind === 'name' && fn.text === 'any'
          ? `; write '${via.text}->…' for "any object", as SpiceDB's '.any(…)' means`
          : `; write '${via.text}.all(name)' (every object) or '${via.text}->name' (any object)`;
      throw new SyntaxProblem(
        fn.kind === 'end' ? dot.offset : fn.offset,
        `expected 'all' after '${via.text}.', found ${found}${hint}`,
      );
    }
    this.take();
    const open = this.take();
    if (open.kind !== 'lparen') {
      throw new SyntaxProblem(
        open.kind === 'end' ? fn.offset : open.offset,
        `expected '(' after '${via.text}.all', found ${describeToken(open)}; write '${via.text}.all(name)'`,
      );
    }
    const target = this.take();
    if (target.kind !== 'name') {
      throw new SyntaxProblem(
        target.kind === 'end' ? open.offset : target.offset,
        `expected a relation or permission name inside '${via.text}.all(…)', found ${describeToken(target)}`,
      );
    }
    this.checkName(target);
    const close = this.take();
    if (close.kind !== 'rparen') {
      throw new SyntaxProblem(
        close.kind === 'end' ? open.offset : close.offset,
        `'${via.text}.all(' is never closed: expected ')' after '${target.text}', found ${describeToken(close)}`,
      );
    }
    this.refuseChain(`${via.text}.all(${target.text})`, target.text);
    return {
      op: 'allArrow',
      via: via.text,
      name: target.text,
      position: this.ctx.positionAt(via.offset),
      namePosition: this.ctx.positionAt(target.offset),
    };
  }

  /** An arrow of either kind may not be followed by another: the target is on another type. */
  private refuseChain(written: string, target: string): void {
    const next = this.peek();
    if (next.kind === 'arrow' || next.kind === 'dot') {
      throw new SyntaxProblem(
        next.offset,
        `arrows cannot be chained ('${written}${next.text}…'); define a permission for '${target}${next.text}…' on the intermediate type and point the arrow at it`,
      );
    }
  }

  private checkName(token: Token): void {
    const problem = relationNameProblem(token.text);
    if (problem !== undefined) throw new SyntaxProblem(token.offset, problem);
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private take(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index++;
    return token;
  }
}

/** Parse a permission expression; on a syntax problem, report it through `ctx` and return undefined. */
export function parseExpression(input: string, ctx: StringParseContext): ExprAst | undefined {
  const lexed = tokenize(input);
  if ('error' in lexed) {
    ctx.report(lexed.error.offset, `${lexed.error.message} in expression '${input}'`);
    return undefined;
  }
  try {
    return new ExpressionParser(lexed.tokens, ctx).parse();
  } catch (err) {
    if (!(err instanceof SyntaxProblem)) throw err;
    ctx.report(err.offset, err.message);
    return undefined;
  }
}
