// Tokenizer shared by the permission expression parser and the relation type-list parser.

export type TokenKind =
  | 'name'
  | 'or'
  | 'and'
  | 'but'
  | 'not'
  | 'arrow'
  | 'lparen'
  | 'rparen'
  | 'hash'
  | 'colon'
  | 'star'
  | 'dot'
  | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** The token's text; for names, the name (which may contain one `/` namespace separator). */
  readonly text: string;
  /** Offset of the token's first character in the input string. */
  readonly offset: number;
}

/** Words with a meaning in expressions; they cannot be used as relation or permission names. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set(['or', 'and', 'but', 'not']);

const PUNCTUATION: ReadonlyArray<readonly [string, TokenKind]> = [
  ['->', 'arrow'],
  ['(', 'lparen'],
  [')', 'rparen'],
  ['#', 'hash'],
  [':', 'colon'],
  ['*', 'star'],
  ['.', 'dot'],
];

// Names are lexed loosely (any case, digits, `/`) so a bad name gets a message about naming
// rather than about an unexpected character; the parsers check the strict patterns.
const NAME = /[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*/y;

export type LexResult =
  | { readonly tokens: readonly Token[] }
  | { readonly error: { offset: number; message: string } };

/** Split `input` into tokens, ending with an `end` token; or report the first unexpected character. */
export function tokenize(input: string): LexResult {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    const punct = PUNCTUATION.find(([text]) => input.startsWith(text, i));
    if (punct !== undefined) {
      tokens.push({ kind: punct[1], text: punct[0], offset: i });
      i += punct[0].length;
      continue;
    }
    NAME.lastIndex = i;
    const match = NAME.exec(input);
    if (match !== null) {
      const text = match[0];
      const kind: TokenKind = RESERVED_WORDS.has(text) ? (text as TokenKind) : 'name';
      tokens.push({ kind, text, offset: i });
      i += text.length;
      continue;
    }
    return { error: { offset: i, message: `unexpected character '${ch}'` } };
  }
  tokens.push({ kind: 'end', text: '', offset: input.length });
  return { tokens };
}

/** How a token reads in a message: `'or'`, or "the end of the expression". */
export function describeToken(token: Token): string {
  return token.kind === 'end' ? 'the end of the expression' : `'${token.text}'`;
}
