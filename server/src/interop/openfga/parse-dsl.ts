// Lexer and recursive-descent parser for the OpenFGA modelling language (schema 1.1): `type`
// blocks of `define name: expression`, where expressions combine direct assignments
// `[user, group#member, user:*, user with cond]`, names, `rel from tupleset`, `or`, `and`,
// `but not` and parentheses, and `condition name(params) { CEL }` blocks. Throws
// OpenFgaSyntaxError with a line and column.

export type FgaExpr =
  | { readonly op: 'direct'; readonly types: readonly FgaTypeRef[] }
  | { readonly op: 'computed'; readonly name: string }
  | { readonly op: 'ttu'; readonly name: string; readonly tupleset: string }
  | { readonly op: 'union' | 'intersection'; readonly operands: readonly FgaExpr[] }
  | { readonly op: 'exclusion'; readonly base: FgaExpr; readonly subtract: FgaExpr };

export interface FgaTypeRef {
  readonly type: string;
  readonly relation?: string | undefined;
  readonly wildcard: boolean;
  readonly condition?: string | undefined;
}

export interface FgaRelation {
  readonly name: string;
  readonly expr: FgaExpr;
  readonly line: number;
  /** The definition as written, for comments. */
  readonly source: string;
}

export interface FgaType {
  readonly name: string;
  readonly relations: FgaRelation[];
}

export interface FgaCondition {
  readonly name: string;
  readonly line: number;
  /** `x: int, ts: timestamp` as written between the parentheses. */
  readonly parameters: string;
  /** The CEL expression between the braces. */
  readonly expression: string;
}

export interface FgaModel {
  readonly schemaVersion: string;
  readonly types: FgaType[];
  readonly conditions: FgaCondition[];
}

export class OpenFgaSyntaxError extends Error {
  override readonly name = 'OpenFgaSyntaxError';
  constructor(
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(`line ${line}, column ${column}: ${message}`);
  }
}

interface Tok {
  readonly kind: 'name' | 'punct' | 'end';
  readonly text: string;
  readonly column: number;
}

function lex(text: string, line: number, offset: number): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    if (ch === '#' && (i === 0 || text[i - 1] === ' ')) break; // comment
    if ('[](),:#*'.includes(ch)) {
      out.push({ kind: 'punct', text: ch, column: offset + i + 1 });
      i++;
      continue;
    }
    const m = /^[A-Za-z0-9_\-./]+/.exec(text.slice(i));
    if (m === null) throw new OpenFgaSyntaxError(line, offset + i + 1, `unexpected character '${ch}'`);
    out.push({ kind: 'name', text: m[0], column: offset + i + 1 });
    i += m[0].length;
  }
  out.push({ kind: 'end', text: '', column: offset + text.length + 1 });
  return out;
}

class ExprParser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly line: number,
  ) {}

  parse(): FgaExpr {
    const e = this.expr();
    if (this.peek().kind !== 'end') this.fail(`unexpected '${this.peek().text}'`);
    return e;
  }

  private peek(k = 0): Tok {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private fail(message: string): never {
    throw new OpenFgaSyntaxError(this.line, this.peek().column, message);
  }

  private isWord(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'name' && t.text === word;
  }

  // OpenFGA does not mix operators without parentheses; if a model does, `but not` binds
  // loosest, then `or`, then `and` (the same precedence as Gatehouse).
  private expr(): FgaExpr {
    let base = this.union();
    while (this.isWord('but') && this.isWord('not', 1)) {
      this.i += 2;
      base = { op: 'exclusion', base, subtract: this.union() };
    }
    return base;
  }

  private union(): FgaExpr {
    const operands = [this.intersection()];
    while (this.isWord('or')) {
      this.i++;
      operands.push(this.intersection());
    }
    return operands.length === 1 ? operands[0]! : { op: 'union', operands };
  }

  private intersection(): FgaExpr {
    const operands = [this.primary()];
    while (this.isWord('and')) {
      this.i++;
      operands.push(this.primary());
    }
    return operands.length === 1 ? operands[0]! : { op: 'intersection', operands };
  }

  private primary(): FgaExpr {
    const t = this.peek();
    if (t.text === '(') {
      this.i++;
      const e = this.expr();
      if (this.peek().text !== ')') this.fail("expected ')'");
      this.i++;
      return e;
    }
    if (t.text === '[') {
      this.i++;
      const types: FgaTypeRef[] = [];
      for (;;) {
        const name = this.peek();
        if (name.kind !== 'name') this.fail('expected a type name');
        this.i++;
        let relation: string | undefined;
        let wildcard = false;
        if (this.peek().text === '#') {
          this.i++;
          if (this.peek().kind !== 'name') this.fail("expected a relation name after '#'");
          relation = this.peek().text;
          this.i++;
        } else if (this.peek().text === ':' && this.peek(1).text === '*') {
          this.i += 2;
          wildcard = true;
        }
        let condition: string | undefined;
        if (this.isWord('with')) {
          this.i++;
          if (this.peek().kind !== 'name') this.fail("expected a condition name after 'with'");
          condition = this.peek().text;
          this.i++;
        }
        types.push({ type: name.text, relation, wildcard, condition });
        if (this.peek().text === ',') {
          this.i++;
          continue;
        }
        if (this.peek().text === ']') {
          this.i++;
          return { op: 'direct', types };
        }
        this.fail("expected ',' or ']'");
      }
    }
    if (t.kind !== 'name') this.fail(`expected a relation name, '(' or '[', found '${t.text || 'the end'}'`);
    this.i++;
    if (this.isWord('from')) {
      this.i++;
      const ts = this.peek();
      if (ts.kind !== 'name') this.fail("expected a relation name after 'from'");
      this.i++;
      return { op: 'ttu', name: t.text, tupleset: ts.text };
    }
    return { op: 'computed', name: t.text };
  }
}

/** Parse an OpenFGA DSL model. */
export function parseOpenFgaDsl(text: string): FgaModel {
  const lines = text.split('\n');
  const types: FgaType[] = [];
  const conditions: FgaCondition[] = [];
  let schemaVersion = '';
  let current: FgaType | undefined;
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    const line = n + 1;
    const trimmed = raw
      .replace(/\s+#.*$/, '')
      .replace(/^\s*#.*$/, '')
      .trim();
    if (trimmed === '') continue;
    const indent = raw.length - raw.trimStart().length;
    const words = trimmed.split(/\s+/);
    if (words[0] === 'model' && words.length === 1) continue;
    if (words[0] === 'schema') {
      schemaVersion = words[1] ?? '';
      continue;
    }
    if (words[0] === 'type') {
      if (words.length !== 2) throw new OpenFgaSyntaxError(line, indent + 1, "expected 'type NAME'");
      current = { name: words[1]!, relations: [] };
      types.push(current);
      continue;
    }
    if (words[0] === 'relations' && words.length === 1) continue;
    if (words[0] === 'condition') {
      // The block runs to the line where its braces balance.
      const start = n;
      let depth = 0;
      for (; n < lines.length; n++) {
        for (const ch of lines[n]!) depth += ch === '{' ? 1 : ch === '}' ? -1 : 0;
        if (depth <= 0 && lines[n]!.includes('}')) break;
      }
      const block = lines.slice(start, n + 1).join('\n');
      const m = /^\s*condition\s+([A-Za-z0-9_]+)\s*\(([^)]*)\)\s*\{([\s\S]*)\}\s*$/.exec(block);
      if (m === null) {
        throw new OpenFgaSyntaxError(
          line,
          indent + 1,
          "expected 'condition NAME(PARAM: TYPE, ...) { EXPRESSION }'",
        );
      }
      conditions.push({ name: m[1]!, line, parameters: m[2]!.trim(), expression: m[3]!.trim() });
      current = undefined;
      continue;
    }
    if (words[0] === 'define') {
      if (current === undefined) throw new OpenFgaSyntaxError(line, indent + 1, "'define' outside a type");
      const m = /^define\s+([A-Za-z0-9_\-.]+)\s*:\s*(.*)$/.exec(trimmed);
      if (m === null) throw new OpenFgaSyntaxError(line, indent + 1, "expected 'define NAME: EXPRESSION'");
      const exprText = m[2]!;
      const offset = raw.indexOf(exprText);
      const expr = new ExprParser(lex(exprText, line, offset), line).parse();
      current.relations.push({ name: m[1]!, expr, line, source: trimmed });
      continue;
    }
    throw new OpenFgaSyntaxError(line, indent + 1, `unexpected '${words[0]}'`);
  }
  if (schemaVersion !== '' && schemaVersion !== '1.1') {
    throw new OpenFgaSyntaxError(1, 1, `schema ${schemaVersion} is not supported; only schema 1.1`);
  }
  return { schemaVersion, types, conditions };
}
