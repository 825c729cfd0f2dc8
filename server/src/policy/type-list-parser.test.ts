// Relation type-list parser: entries, namespace resolution and positioned syntax problems.
import { describe, expect, it } from 'vitest';
import type { StringParseContext } from './expression-parser.js';
import { parseTypeList } from './type-list-parser.js';

function context(): StringParseContext & { problems: string[] } {
  const problems: string[] = [];
  return {
    problems,
    positionAt: (offset) => ({ file: 'f.yaml', line: 1, column: offset + 1 }),
    report: (offset, message) => problems.push(`${offset + 1}: ${message}`),
  };
}

describe('parseTypeList', () => {
  it('parses plain types, subject sets and wildcards with their columns', () => {
    const items = parseTypeList('user or group#member or user:*', undefined, context());
    expect(items?.map((i) => [i.type, i.relation, i.wildcard, i.source, i.position.column])).toEqual([
      ['user', undefined, false, 'user', 1],
      ['group', 'member', false, 'group#member', 9],
      ['user', undefined, true, 'user:*', 25],
    ]);
  });

  it("resolves unqualified names to the file's namespace and keeps qualified ones", () => {
    const items = parseTypeList('user or hr/employee#manager', 'crm', context());
    expect(items?.map((i) => `${i.type}${i.relation ? `#${i.relation}` : ''}`)).toEqual([
      'crm/user',
      'hr/employee#manager',
    ]);
  });

  it.each([
    [
      '',
      "1: the type list is empty; name the subject types the relation allows, such as 'user or group#member'",
    ],
    [
      'user and group',
      "6: expected 'or' between subject types, found 'and'; a type list joins types with 'or' only",
    ],
    ['user or', "6: expected a type name after 'or'"],
    [
      'user:mike',
      "6: a type list names types, not objects: write 'user' for any object of the type, or 'user:*' for the wildcard",
    ],
    ['group#', "6: expected a relation name after 'group#', found the end of the expression"],
    [
      'User',
      "1: 'User' is not a valid type name; use lowercase letters, digits and '_', starting with a letter, optionally prefixed by a namespace ('crm/contact', 'org/sales/contact')",
    ],
    [
      'a/b/c/d/e/f/g/h/i',
      "1: 'a/b/c/d/e/f/g/h/i' is not a valid type name; use lowercase letters, digits and '_', starting with a letter, optionally prefixed by a namespace ('crm/contact', 'org/sales/contact')",
    ],
    ['user, group', "5: unexpected character ',' in type list 'user, group'"],
  ])('%j reports %s', (input, problem) => {
    const ctx = context();
    expect(parseTypeList(input, undefined, ctx)).toBeUndefined();
    expect(ctx.problems).toEqual([problem]);
  });
});
