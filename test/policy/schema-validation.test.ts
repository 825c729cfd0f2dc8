// One case per validation rule of docs/policy-format.md: each asserts the exact
// file:line:column and message, so a moved position or a reworded message fails here.
import { describe, expect, it } from 'vitest';
import { formatPolicyProblem } from '../../server/src/errors.js';
import { compileFiles, problemLines, problemsOf, yaml } from './compile-helpers.js';

/** A schema with users and nested groups, plus more types under `types:` (from line 7, column 3). */
function schemaWith(extra: string): Record<string, string> {
  const base = yaml`
    kind: schema
    types:
      user: {}
      group:
        relations:
          member: user or group#member
  `;
  const nested = extra
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
  return { 'schema.yaml': base + nested };
}

const cases: Array<[rule: string, files: Record<string, string>, expected: string[]]> = [
  [
    'unknown type in a relation, with did-you-mean',
    schemaWith(yaml`
      doc:
        relations:
          viewer: usr or group#member
    `),
    ["schema.yaml:9:15: relation 'viewer': unknown type 'usr'; did you mean 'user'?"],
  ],
  [
    'unknown relation or permission in an expression, pointing at the name inside the string',
    schemaWith(yaml`
      doc:
        relations:
          viewer: user
        permissions:
          view: owner or viewr
    `),
    [
      "schema.yaml:11:13: unknown relation or permission 'owner' on type 'doc'",
      "schema.yaml:11:22: unknown relation or permission 'viewr' on type 'doc'; did you mean 'viewer'?",
    ],
  ],
  [
    'a subject set naming a relation its type lacks',
    schemaWith(yaml`
      doc:
        relations:
          viewer: user or group#membr
    `),
    [
      "schema.yaml:9:23: subject set 'group#membr' in relation 'viewer': type 'group' has no relation or permission 'membr'; did you mean 'member'?",
    ],
  ],
  [
    'a subject set naming a permission is accepted (as SpiceDB and OpenFGA accept it)',
    schemaWith(yaml`
      team:
        relations:
          lead: user
        permissions:
          manage: lead
      doc:
        relations:
          viewer: team#manage
    `),
    [],
  ],
  [
    'the same subject type listed twice',
    schemaWith(yaml`
      doc:
        relations:
          viewer: user or user
    `),
    ["schema.yaml:9:23: 'user' is listed twice in relation 'viewer'; remove the repeat"],
  ],
  [
    'an arrow through a relation that allows a wildcard',
    schemaWith(yaml`
      doc:
        relations:
          parent: group#member or user:*
        permissions:
          view: parent->member
    `),
    [
      "schema.yaml:11:13: arrow 'parent->member' goes through relation 'parent', which allows 'user:*'; a wildcard names no object to follow, so remove it from 'parent' or add a separate relation for it",
    ],
  ],
  [
    "an arrow through a relation that allows subject sets is accepted (it walks to the subject's object)",
    schemaWith(yaml`
      doc:
        relations:
          parent: group#member or group
        permissions:
          view: parent->member
    `),
    [],
  ],
  [
    'an arrow whose target only some of its types define is accepted (the others are skipped)',
    schemaWith(yaml`
      folder:
        relations:
          viewer: user
      doc:
        relations:
          parent: folder or group
        permissions:
          view: parent->viewer
    `),
    [],
  ],
  [
    'an arrow whose target none of its types define, naming the types',
    schemaWith(yaml`
      folder:
        relations:
          viewer: user
      doc:
        relations:
          parent: folder or group
        permissions:
          view: parent->viewr
    `),
    [
      "schema.yaml:14:21: arrow 'parent->viewr': no type relation 'parent' allows ('folder', 'group') has a relation or permission 'viewr'; did you mean 'viewer'?",
    ],
  ],
  [
    'an arrow starting from a permission or an unknown relation',
    schemaWith(yaml`
      doc:
        relations:
          parent: group
        permissions:
          inherited: parent
          view: inherited->member or parnt->member
    `),
    [
      "schema.yaml:12:13: arrow 'inherited->member': 'inherited' is a permission; an arrow must start from a relation",
      "schema.yaml:12:34: arrow 'parnt->member': type 'doc' has no relation 'parnt'; did you mean 'parent'?",
    ],
  ],
  [
    'a duplicate type across files, pointing at the later file',
    {
      ...schemaWith(''),
      'z-more.yaml': yaml`
        kind: schema
        types:
          group: {}
      `,
    },
    [
      "z-more.yaml:3:3: duplicate type 'group': already defined at schema.yaml:4:3; define each type in exactly one schema file",
    ],
  ],
  [
    'a duplicate relation name in one type (a yaml duplicate key)',
    schemaWith(yaml`
      doc:
        relations:
          viewer: user
          viewer: group#member
    `),
    [
      "schema.yaml:10:7: duplicate key 'viewer': a name may appear only once in a mapping; remove or rename the repeat",
    ],
  ],
  [
    "a permission sharing a relation's name",
    schemaWith(yaml`
      doc:
        relations:
          viewer: user
        permissions:
          viewer: viewer
    `),
    [
      "schema.yaml:11:7: permission 'viewer' of type 'doc' has the same name as the relation declared at schema.yaml:9:7; rename one of them",
    ],
  ],
  [
    'a chain of arrows whose base case is declared last is satisfiable',
    schemaWith(yaml`
      a:
        relations: { next: b }
        permissions: { view: next->view }
      b:
        relations: { next: c }
        permissions: { view: next->view }
      c:
        relations: { owner: user }
        permissions: { view: owner }
    `),
    [],
  ],
  [
    "'but not' whose subtracted side reaches the permission through another permission and a subject set",
    schemaWith(yaml`
      doc:
        relations:
          viewer: user
          blocked: doc#audience
          audience: user
        permissions:
          view: viewer but not blocked
          reach: view
    `),
    [],
  ],
  [
    "'but not' whose subtracted side depends on the permission itself is accepted (well-founded semantics)",
    schemaWith(yaml`
      doc:
        relations:
          viewer: user
          parent: doc
        permissions:
          view: viewer but not parent->view
    `),
    [],
  ],
  [
    "'but not' in a cycle through another type's permission is accepted",
    schemaWith(yaml`
      folder:
        relations:
          doc: doc
        permissions:
          hidden: doc->view
      doc:
        relations:
          viewer: user
          folder: folder
        permissions:
          view: viewer but not folder->hidden
    `),
    [],
  ],
  [
    'an if_emptied_by_delete subject the relation does not allow',
    schemaWith(yaml`
      doc:
        relations:
          viewer:
            types: group#member
            if_emptied_by_delete: user:*
    `),
    [
      "schema.yaml:11:31: if_emptied_by_delete subject 'user:*' is not allowed by relation 'doc#viewer' (it allows group#member); add it to the relation's types or choose one of those",
    ],
  ],
  [
    'a malformed if_emptied_by_delete subject',
    schemaWith(yaml`
      doc:
        relations:
          viewer:
            types: user:*
            if_emptied_by_delete: everyone
    `),
    ["schema.yaml:11:31: invalid subject 'everyone': expected 'type:id', 'type:id#relation' or 'type:*'"],
  ],
  [
    'a long-form relation without types',
    schemaWith(yaml`
      doc:
        relations:
          viewer:
            if_emptied_by_delete: user:*
    `),
    [
      "schema.yaml:9:7: relation 'viewer' needs 'types', the subject types it allows (such as 'user or group#member')",
    ],
  ],
  [
    'invalid and reserved names',
    schemaWith(yaml`
      Doc: {}
      doc:
        relations:
          or: user
        permissions:
          can-view: user
    `),
    [
      "schema.yaml:7:3: type 'Doc' is not a valid name; use lowercase letters, digits and '_', starting with a letter, at most 63 characters",
      "schema.yaml:10:7: relation 'or' is a reserved word in expressions; choose another name",
      "schema.yaml:12:7: permission 'can-view' is not a valid name; use lowercase letters, digits and '_', starting with a letter, at most 63 characters",
    ],
  ],
  [
    'a namespaced type name written as a key',
    schemaWith(yaml`
      crm/doc: {}
    `),
    [
      "schema.yaml:7:3: type 'crm/doc' contains '/': declare types without a namespace prefix and set 'namespace:' at the top of the file instead",
    ],
  ],
  [
    'unknown keys, with did-you-mean',
    schemaWith(yaml`
      doc:
        relation:
          viewer: user
        permisions: {}
    `),
    [
      "schema.yaml:8:5: unknown key 'relation' in type 'doc'; did you mean 'relations'? (expected 'relations', 'permissions')",
      "schema.yaml:10:5: unknown key 'permisions' in type 'doc'; did you mean 'permissions'? (expected 'relations', 'permissions')",
    ],
  ],
  [
    'wrong value shapes',
    schemaWith(yaml`
      doc:
        relations: [viewer]
      page:
        permissions:
          view: 42
    `),
    [
      "schema.yaml:8:16: 'relations' must be a mapping, found a list",
      "schema.yaml:11:13: the expression of permission 'view' must be a string, found number 42",
    ],
  ],
  [
    'keys without values (explicit `? key` entries), reported at the key rather than read as values',
    schemaWith(yaml`
      doc:
        relations:
          ? viewer
        permissions:
          ? view
    `),
    [
      "schema.yaml:9:9: the type list of relation 'viewer' must be a string, found nothing",
      "schema.yaml:11:9: the expression of permission 'view' must be a string, found nothing",
    ],
  ],
  [
    'a missing, mistyped or unknown kind',
    {
      'a.yaml': 'types: {}\n',
      'b.yaml': 'kind: [schema]\n',
      'c.yaml': 'kind: shema\ntypes: {}\n',
      'd.yaml': '',
      'e.yaml': '- kind: schema\n',
    },
    [
      "a.yaml:1:1: missing 'kind'; add 'kind: schema', 'kind: relationships' or 'kind: test' at the top of the file",
      "b.yaml:1:7: 'kind' must be a string, found a list",
      "c.yaml:1:7: unknown kind 'shema'; did you mean 'schema'? (expected 'schema', 'relationships' or 'test')",
      "d.yaml:1:1: the file is empty; a policy file is a mapping with 'kind: schema', 'kind: relationships' or 'kind: test'",
      'e.yaml:1:1: a policy file must be a mapping, found a list',
    ],
  ],
  [
    'a yaml syntax error',
    { 'bad.yaml': 'kind: schema\ntypes:\n  user: {\n' },
    [
      'bad.yaml:4:1: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }',
    ],
  ],
  [
    'several yaml documents in one file',
    { 'multi.yaml': 'kind: schema\ntypes: {}\n---\nkind: schema\n' },
    [
      "multi.yaml:3:1: a policy file holds one YAML document, but this one has another after '---'; move it into a file of its own",
    ],
  ],
  [
    'an invalid namespace',
    { 'ns.yaml': 'kind: schema\nnamespace: Team-CRM\ntypes: {}\n' },
    [
      "ns.yaml:2:12: namespace 'Team-CRM' is not a valid name; use lowercase letters, digits and '_', starting with a letter, at most 63 characters, and '/' between levels ('org/sales'), at most 7 levels",
    ],
  ],
];

const RECURSES =
  'without reaching a stored subject; add a base case such as a relation it can be granted through';

/** Policies that compile, with the warnings they must produce (in order). */
const warningCases: Array<[rule: string, files: Record<string, string>, expected: string[]]> = [
  [
    'permissions that can never be true, each with its own reason',
    schemaWith(yaml`
      doc:
        relations:
          viewer: user
        permissions:
          a: b and viewer
          b: a or c
          c: c
          d: c and viewer
          fine: viewer or fine
    `),
    [
      `schema.yaml:11:7: permission 'doc#a' can never be true: every way to satisfy it recurses back into itself (doc#a → doc#b → doc#a) ${RECURSES}`,
      `schema.yaml:12:7: permission 'doc#b' can never be true: every way to satisfy it recurses back into itself (doc#b → doc#a → doc#b) without reaching a stored subject; its other ways depend on 'doc#c', which can never be true; add a base case such as a relation it can be granted through`,
      `schema.yaml:13:7: permission 'doc#c' can never be true: every way to satisfy it recurses back into itself (doc#c → doc#c) ${RECURSES}`,
      "schema.yaml:14:7: permission 'doc#d' can never be true: it depends only on 'doc#c', which can never be true; fix that rule first",
    ],
  ],
  [
    'a chain of arrows without a base case is never true at every link',
    schemaWith(yaml`
      a:
        relations: { next: b }
        permissions: { view: next->view }
      b:
        relations: { next: a }
        permissions: { view: next->view }
    `),
    [
      `schema.yaml:9:20: permission 'a#view' can never be true: every way to satisfy it recurses back into itself (a#view → b#view → a#view) ${RECURSES}`,
      `schema.yaml:12:20: permission 'b#view' can never be true: every way to satisfy it recurses back into itself (b#view → a#view → b#view) ${RECURSES}`,
    ],
  ],
  [
    'a relation that allows only subject sets leading back to itself',
    {
      'schema.yaml': yaml`
        kind: schema
        types:
          team:
            relations:
              member: team#member
      `,
    },
    [
      `schema.yaml:5:7: relation 'team#member' can never be true: every way to satisfy it recurses back into itself (team#member → team#member) ${RECURSES}`,
    ],
  ],
];

describe('schema warnings (the policy is accepted)', () => {
  it.each(warningCases)('%s', (_rule, files, expected) => {
    expect(compileFiles(files).warnings.map(formatPolicyProblem)).toEqual(expected);
  });
});

describe('schema validation rules', () => {
  it.each(cases)('%s', (_rule, files, expected) => {
    if (expected.length === 0) {
      expect(() => problemsOf(files)).toThrow(/compiled/);
      return;
    }
    expect(problemLines(files)).toEqual(expected);
  });

  it('points at the start of a quoted or folded expression when columns inside it are not exact', () => {
    const lines = problemLines(
      schemaWith(yaml`
        doc:
          permissions:
            a: "member or \\u0041x"
            b: >-
              user or
              ghost
      `),
    );
    expect(lines).toEqual([
      "schema.yaml:9:10: 'Ax' is not a valid name; use lowercase letters, digits and '_', starting with a letter, at most 63 characters",
      "schema.yaml:10:10: unknown relation or permission 'ghost' on type 'doc'",
      "schema.yaml:10:10: unknown relation or permission 'user' on type 'doc'",
    ]);
  });

  it('points inside a quoted expression without escapes', () => {
    expect(problemLines(schemaWith("doc:\n  permissions:\n    a: 'ghost'\n"))).toEqual([
      "schema.yaml:9:11: unknown relation or permission 'ghost' on type 'doc'",
    ]);
  });
});
