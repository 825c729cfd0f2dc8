// Parser for a relation's allowed subject types: `user or group#member or user:*`, resolving
// unqualified type names to the file's namespace.
//
//   list := item ('or' item)*
//   item := TYPE ('#' NAME | ':' '*')? ('with' NAME)?
import { TYPE_NAME_PATTERN } from '../model/relationship.js';
import type { SubjectTypeAst } from './ast.js';
import type { StringParseContext } from './expression-parser.js';
import { relationNameProblem } from './expression-parser.js';
import type { Token } from './lexer.js';
import { describeToken, tokenize } from './lexer.js';
import { qualifyTypeName } from './namespaces.js';

class SyntaxProblem extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** Why `text` is not a valid (optionally namespaced) type name, or undefined if it is one. */
export function typeNameProblem(text: string): string | undefined {
  if (TYPE_NAME_PATTERN.test(text)) return undefined;
  return `'${text}' is not a valid type name; use lowercase letters, digits and '_', starting with a letter, optionally prefixed by a namespace ('crm/contact', 'org/sales/contact')`;
}

/** `with NAME` after an item (OpenFGA's conditional type restriction), if present. */
function parseCondition(
  tokens: readonly Token[],
  i: number,
  item: SubjectTypeAst,
  input: string,
  itemStart: number,
): [SubjectTypeAst, number] {
  const w = tokens[i]!;
  if (w.kind !== 'name' || w.text !== 'with') return [item, i];
  const name = tokens[i + 1]!;
  if (name.kind !== 'name') {
    throw new SyntaxProblem(
      name.kind === 'end' ? w.offset : name.offset,
      `expected a condition name after 'with', found ${describeToken(name)}`,
    );
  }
  const problem = relationNameProblem(name.text);
  if (problem !== undefined) throw new SyntaxProblem(name.offset, `condition ${problem}`);
  return [
    { ...item, condition: name.text, source: input.slice(itemStart, name.offset + name.text.length) },
    i + 2,
  ];
}

function parseItem(
  tokens: readonly Token[],
  start: number,
  input: string,
  namespace: string | undefined,
  ctx: StringParseContext,
): [SubjectTypeAst, number] {
  let i = start;
  const typeToken = tokens[i++]!;
  if (typeToken.kind !== 'name') {
    throw new SyntaxProblem(typeToken.offset, `expected a type name, found ${describeToken(typeToken)}`);
  }
  const typeProblem = typeNameProblem(typeToken.text);
  if (typeProblem !== undefined) throw new SyntaxProblem(typeToken.offset, typeProblem);
  const type = qualifyTypeName(typeToken.text, namespace);
  const position = ctx.positionAt(typeToken.offset);
  const next = tokens[i]!;
  if (next.kind === 'hash') {
    const rel = tokens[i + 1]!;
    if (rel.kind !== 'name') {
      throw new SyntaxProblem(
        rel.kind === 'end' ? next.offset : rel.offset,
        `expected a relation name after '${typeToken.text}#', found ${describeToken(rel)}`,
      );
    }
    const relProblem = relationNameProblem(rel.text);
    if (relProblem !== undefined) throw new SyntaxProblem(rel.offset, relProblem);
    const source = input.slice(typeToken.offset, rel.offset + rel.text.length);
    return [{ type, relation: rel.text, wildcard: false, source, position }, i + 2];
  }
  if (next.kind === 'colon') {
    const star = tokens[i + 1]!;
    if (star.kind !== 'star') {
      throw new SyntaxProblem(
        star.kind === 'end' ? next.offset : star.offset,
        `a type list names types, not objects: write '${typeToken.text}' for any object of the type, or '${typeToken.text}:*' for the wildcard`,
      );
    }
    return [{ type, wildcard: true, source: `${typeToken.text}:*`, position }, i + 2];
  }
  return [{ type, wildcard: false, source: typeToken.text, position }, i];
}

/** Parse a type list; on a syntax problem, report it through `ctx` and return undefined. */
export function parseTypeList(
  input: string,
  namespace: string | undefined,
  ctx: StringParseContext,
): SubjectTypeAst[] | undefined {
  const lexed = tokenize(input);
  if ('error' in lexed) {
    ctx.report(lexed.error.offset, `${lexed.error.message} in type list '${input}'`);
    return undefined;
  }
  const { tokens } = lexed;
  try {
    if (tokens[0]!.kind === 'end') {
      throw new SyntaxProblem(
        0,
        "the type list is empty; name the subject types the relation allows, such as 'user or group#member'",
      );
    }
    const items: SubjectTypeAst[] = [];
    let i = 0;
    for (;;) {
      const [bare, afterItem] = parseItem(tokens, i, input, namespace, ctx);
      const [item, next] = parseCondition(tokens, afterItem, bare, input, tokens[i]!.offset);
      items.push(item);
      const sep = tokens[next]!;
      if (sep.kind === 'end') return items;
      if (sep.kind !== 'or') {
        const hint =
          sep.kind === 'and' || sep.kind === 'but' ? "; a type list joins types with 'or' only" : '';
        throw new SyntaxProblem(
          sep.offset,
          `expected 'or' between subject types, found ${describeToken(sep)}${hint}`,
        );
      }
      if (tokens[next + 1]!.kind === 'end')
        throw new SyntaxProblem(sep.offset, "expected a type name after 'or'");
      i = next + 1;
    }
  } catch (err) {
    if (!(err instanceof SyntaxProblem)) throw err;
    ctx.report(err.offset, err.message);
    return undefined;
  }
}
