// Lexer and recursive-descent parser for the SpiceDB schema language: `definition` blocks of
// `relation name: type | type#rel | type:* [with caveat[ and expiration]]` and
// `permission name = expression`, where expressions use `+` (union), `&` (intersection), `-`
// (exclusion), `rel->perm`, `rel.any(perm)`, `rel.all(perm)`, `nil` and parentheses.
// `caveat name(params) { CEL }` blocks are kept as text (extractCaveats). As in SpiceDB,
// `-` binds loosest, then `&`, then `+`, each left-associative: `a - b + c` is `a - (b + c)`,
// `a - b - c` is `(a - b) - c`.

export type ZedExpr =
  | { readonly op: 'ref'; readonly name: string }
  | { readonly op: 'arrow'; readonly via: string; readonly name: string; readonly fn: 'any' | 'all' }
  | { readonly op: 'nil' }
  | { readonly op: 'union' | 'intersection'; readonly operands: readonly ZedExpr[] }
  | { readonly op: 'exclusion'; readonly base: ZedExpr; readonly subtract: ZedExpr };

export interface ZedTypeRef {
  readonly type: string;
  readonly relation?: string | undefined;
  readonly wildcard: boolean;
  readonly caveat?: string | undefined;
  readonly expiration: boolean;
}

export interface ZedDefinition {
  readonly name: string;
  readonly relations: {
    readonly name: string;
    readonly types: readonly ZedTypeRef[];
    readonly source: string;
  }[];
  readonly permissions: { readonly name: string; readonly expr: ZedExpr; readonly source: string }[];
}

/** A caveat as written: its CEL is carried over as is. */
export interface ZedCaveat {
  readonly name: string;
  /** `somecondition int, other list<string>` as written between the parentheses. */
  readonly parameters: string;
  readonly expression: string;
}

export interface ZedSchema {
  readonly definitions: ZedDefinition[];
  readonly caveats: string[];
  /** The caveat blocks, in order. */
  readonly caveatBlocks: ZedCaveat[];
  /** `use expiration` and similar directives. */
  readonly directives: string[];
}

export class SpiceDbSyntaxError extends Error {
  override readonly name = 'SpiceDbSyntaxError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

interface Tok {
  readonly kind: 'name' | 'punct' | 'end';
  readonly text: string;
  readonly line: number;
}

const PUNCT = [
  '->',
  '{',
  '}',
  '(',
  ')',
  ':',
  '|',
  '=',
  '+',
  '-',
  '&',
  '#',
  '*',
  '.',
  ',',
  '<',
  '>',
  '[',
  ']',
  '!',
  '"',
  "'",
];

function lex(text: string): Tok[] {
  const out: Tok[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\n') {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (let j = i; j < stop; j++) if (text[j] === '\n') line++;
      i = stop;
      continue;
    }
    const p = PUNCT.find((x) => text.startsWith(x, i));
    // A name may contain '/' (namespaces); '-' starts a name only inside one.
    const m = /^[A-Za-z0-9_]+(?:\/[A-Za-z0-9_]+)*/.exec(text.slice(i));
    if (m !== null) {
      out.push({ kind: 'name', text: m[0], line });
      i += m[0].length;
      continue;
    }
    if (p !== undefined) {
      out.push({ kind: 'punct', text: p, line });
      i += p.length;
      continue;
    }
    out.push({ kind: 'punct', text: ch, line });
    i++;
  }
  out.push({ kind: 'end', text: '', line });
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly text: string,
  ) {}

  private peek(k = 0): Tok {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  private take(): Tok {
    return this.toks[this.i++]!;
  }
  private fail(message: string): never {
    throw new SpiceDbSyntaxError(this.peek().line, message);
  }
  private expect(text: string): void {
    if (this.peek().text !== text) this.fail(`expected '${text}', found '${this.peek().text || 'the end'}'`);
    this.i++;
  }
  private name(what: string): string {
    const t = this.peek();
    if (t.kind !== 'name') this.fail(`expected ${what}, found '${t.text || 'the end'}'`);
    this.i++;
    return t.text;
  }

  parse(): ZedSchema {
    const definitions: ZedDefinition[] = [];
    const caveats: string[] = [];
    const directives: string[] = [];
    while (this.peek().kind !== 'end') {
      const word = this.name("'definition' or 'caveat'");
      if (word === 'definition') definitions.push(this.definition());
      else if (word === 'caveat') caveats.push(this.skipCaveat());
      else if (word === 'use') directives.push(`use ${this.name('a feature name')}`);
      else this.fail(`expected 'definition' or 'caveat', found '${word}'`);
    }
    return { definitions, caveats, caveatBlocks: [], directives };
  }

  private skipCaveat(): string {
    const name = this.name('a caveat name');
    let depth = 0;
    while (this.peek().kind !== 'end') {
      const t = this.take();
      if (t.text === '{') depth++;
      if (t.text === '}' && --depth === 0) break;
    }
    return name;
  }

  private definition(): ZedDefinition {
    const name = this.name('a definition name');
    const def: ZedDefinition = { name, relations: [], permissions: [] };
    this.expect('{');
    while (this.peek().text !== '}') {
      const start = this.i;
      const word = this.name("'relation' or 'permission'");
      if (word === 'relation') {
        const rel = this.name('a relation name');
        this.expect(':');
        const types = [this.typeRef()];
        while (this.peek().text === '|') {
          this.i++;
          types.push(this.typeRef());
        }
        def.relations.push({ name: rel, types, source: this.source(start) });
      } else if (word === 'permission') {
        const perm = this.name('a permission name');
        this.expect('=');
        const expr = this.exclusion();
        def.permissions.push({ name: perm, expr, source: this.source(start) });
      } else this.fail(`expected 'relation' or 'permission', found '${word}'`);
    }
    this.expect('}');
    return def;
  }

  private source(start: number): string {
    return this.toks
      .slice(start, this.i)
      .map((t) => t.text)
      .join(' ')
      .replace(/ ([#:.>(),]) /g, '$1')
      .replace(/ ([#:.(),])/g, '$1')
      .replace(/- >/g, '->');
  }

  private typeRef(): ZedTypeRef {
    const type = this.name('a type name');
    let relation: string | undefined;
    let wildcard = false;
    if (this.peek().text === '#') {
      this.i++;
      if (this.peek().text === '.') {
        // `#...` is the plain object.
        this.expect('.');
        this.expect('.');
        this.expect('.');
      } else relation = this.name('a relation name');
    } else if (this.peek().text === ':') {
      this.i++;
      this.expect('*');
      wildcard = true;
    }
    let caveat: string | undefined;
    let expiration = false;
    if (this.peek().kind === 'name' && this.peek().text === 'with') {
      this.i++;
      for (;;) {
        const trait = this.name('a caveat name or expiration');
        if (trait === 'expiration') expiration = true;
        else caveat = trait;
        if (this.peek().kind === 'name' && this.peek().text === 'and') {
          this.i++;
          continue;
        }
        break;
      }
    }
    return { type, relation, wildcard, caveat, expiration };
  }

  private binary(op: string, kind: 'exclusion' | 'intersection' | 'union', next: () => ZedExpr): ZedExpr {
    let left = next();
    while (this.peek().text === op) {
      this.i++;
      const right = next();
      left =
        kind === 'exclusion'
          ? { op: 'exclusion', base: left, subtract: right }
          : { op: kind, operands: [left, right] };
    }
    return left;
  }

  private exclusion(): ZedExpr {
    return this.binary('-', 'exclusion', () => this.intersection());
  }
  private intersection(): ZedExpr {
    return this.binary('&', 'intersection', () => this.union());
  }
  private union(): ZedExpr {
    return this.binary('+', 'union', () => this.primary());
  }

  private primary(): ZedExpr {
    if (this.peek().text === '(') {
      this.i++;
      const e = this.exclusion();
      this.expect(')');
      return e;
    }
    const name = this.name('a relation or permission name');
    if (name === 'nil') return { op: 'nil' };
    if (this.peek().text === '->') {
      this.i++;
      return { op: 'arrow', via: name, name: this.name('a name after ->'), fn: 'any' };
    }
    if (this.peek().text === '.' && this.peek(1).kind === 'name') {
      this.i++;
      const fn = this.name("'any' or 'all'");
      if (fn !== 'any' && fn !== 'all') this.fail(`unknown arrow function '${fn}'`);
      this.expect('(');
      const target = this.name('a permission name');
      this.expect(')');
      return { op: 'arrow', via: name, name: target, fn };
    }
    return { op: 'ref', name };
  }
}

/** Parse a SpiceDB schema. */
export function parseSpiceDbSchema(text: string): ZedSchema {
  const schema = new Parser(lex(text), text).parse();
  return { ...schema, caveatBlocks: extractCaveats(text) };
}

/**
 * The `caveat NAME(PARAMS) { EXPRESSION }` blocks of a schema, read from the text (the token
 * stream loses the CEL's spelling): braces are matched outside string literals.
 */
export function extractCaveats(text: string): ZedCaveat[] {
  const out: ZedCaveat[] = [];
  const head = /(^|\n)\s*caveat\s+([A-Za-z0-9_/]+)\s*\(([^)]*)\)\s*\{/g;
  for (let m = head.exec(text); m !== null; m = head.exec(text)) {
    const open = head.lastIndex - 1;
    let depth = 0;
    let quote: string | undefined;
    let end = -1;
    for (let i = open; i < text.length; i++) {
      const ch = text[i]!;
      if (quote !== undefined) {
        if (ch === '\\') i++;
        else if (ch === quote) quote = undefined;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        end = i;
        break;
      }
    }
    if (end < 0) break;
    out.push({ name: m[2]!, parameters: m[3]!.trim(), expression: text.slice(open + 1, end).trim() });
    head.lastIndex = end + 1;
  }
  return out;
}
