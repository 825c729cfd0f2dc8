// compilePolicySet end to end: namespaces, data and test files resolved against the merged
// schema, every problem of every file reported sorted, compiled plans and the schema hash.
import { describe, expect, it } from 'vitest';
import { formatPolicyProblem } from '../../server/src/errors.js';
import { formatRelationship } from '../../server/src/model/relationship.js';
import { schemaToJson } from '../../server/src/schema/validate.js';
import { compileFiles, problemLines, problemsOf, yaml } from './compile-helpers.js';

const crmSchema = yaml`
  kind: schema
  namespace: crm
  types:
    user: {}
    account:
      relations:
        owner: user
        admin: user
        editor: user
      permissions:
        administer: owner or admin
        edit: administer or editor
    group:
      relations:
        member: user or group#member
    contact:
      relations:
        account: account
        owner: user
        frozen: user:*
        viewer:
          types: user:* or group#member
          if_emptied_by_delete: user:*
      permissions:
        view: owner or viewer or account->administer
        edit: view and account->edit
        delete: edit but not frozen
`;

describe('compilePolicySet', () => {
  it('loads a data file with more relationships than an argument list can carry', () => {
    // 140k relationships in one file: spreading them into one push() overflowed the stack.
    const count = 140_000;
    const lines = ['kind: relationships', 'namespace: crm', 'relationships:'];
    for (let i = 0; i < count; i++) lines.push(`  - contact:c${i}#viewer@user:*`);
    const set = compileFiles({ 'crm/schema.yaml': crmSchema, 'crm/data.yaml': `${lines.join('\n')}\n` });
    expect(set.relationships).toHaveLength(count);
    expect(formatRelationship(set.relationships[count - 1]!.relationship)).toBe(
      `crm/contact:c${count - 1}#viewer@crm/user:*`,
    );
  });

  it('compiles the example schema into the documented plans', () => {
    const set = compileFiles({ 'crm/schema.yaml': crmSchema });
    const contact = (schemaToJson(set.schema) as { types: Array<{ name: string }> }).types.find(
      (t) => t.name === 'crm/contact',
    );
    expect(contact).toEqual({
      name: 'crm/contact',
      relations: [
        { name: 'account', types: ['crm/account'] },
        { name: 'frozen', types: ['crm/user:*'] },
        { name: 'owner', types: ['crm/user'] },
        { name: 'viewer', types: ['crm/group#member', 'crm/user:*'], ifEmptiedByDelete: 'crm/user:*' },
      ],
      permissions: [
        {
          name: 'delete',
          expression: 'edit but not frozen',
          plan: {
            op: 'exclusion',
            base: { op: 'ref', name: 'edit', target: 'permission' },
            subtract: { op: 'ref', name: 'frozen', target: 'relation' },
          },
        },
        {
          name: 'edit',
          expression: 'view and account->edit',
          plan: {
            op: 'intersection',
            operands: [
              { op: 'ref', name: 'view', target: 'permission' },
              { op: 'arrow', via: 'account', name: 'edit' },
            ],
          },
        },
        {
          name: 'view',
          expression: 'owner or viewer or account->administer',
          plan: {
            op: 'union',
            operands: [
              { op: 'ref', name: 'owner', target: 'relation' },
              { op: 'ref', name: 'viewer', target: 'relation' },
              { op: 'arrow', via: 'account', name: 'administer' },
            ],
          },
        },
      ],
    });
    expect(set.schema.types.get('crm/contact')?.relations.get('viewer')?.ifEmptiedByDelete).toEqual({
      type: 'crm/user',
      id: '*',
    });
  });

  it('flattens nested unions and keeps the fewest parentheses when rendering', () => {
    const set = compileFiles({
      's.yaml': yaml`
        kind: schema
        types:
          user: {}
          doc:
            relations: { a: user, b: user, c: user, d: user }
            permissions:
              p: a or (b or c)
              q: (a or b) and (c but not d)
              r: a but not (b but not c)
      `,
    });
    const doc = set.schema.types.get('doc')!;
    expect(doc.permissions.get('p')?.expr).toEqual({
      op: 'union',
      operands: ['a', 'b', 'c'].map((name) => ({ op: 'ref', name, target: 'relation' })),
    });
    const json = schemaToJson(set.schema) as {
      types: Array<{ name: string; permissions: Array<{ expression: string }> }>;
    };
    expect(json.types.find((t) => t.name === 'doc')?.permissions.map((p) => p.expression)).toEqual([
      'a or b or c',
      '(a or b) and (c but not d)',
      'a but not (b but not c)',
    ]);
  });

  it('gives the same hash whatever the file order, and a different one when the schema changes', () => {
    const split = {
      'a.yaml': 'kind: schema\ntypes:\n  user: {}\n',
      'b.yaml': 'kind: schema\ntypes:\n  doc:\n    relations:\n      viewer: user\n      owner: user\n',
    };
    const merged =
      'kind: schema\ntypes:\n  doc:\n    relations:\n      owner: user\n      viewer: user\n  user: {}\n';
    const hash = compileFiles(split).schema.hash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(compileFiles({ 'b.yaml': split['b.yaml'], 'a.yaml': split['a.yaml'] }).schema.hash).toBe(hash);
    expect(compileFiles({ 'all.yaml': merged }).schema.hash).toBe(hash);
    expect(compileFiles({ 'all.yaml': merged.replace('owner: user', 'owner: user:*') }).schema.hash).not.toBe(
      hash,
    );
  });

  it("resolves unqualified names to the file's namespace and qualified ones across namespaces", () => {
    const set = compileFiles({
      'crm/schema.yaml': crmSchema,
      'hr/schema.yaml': yaml`
        kind: schema
        namespace: hr
        types:
          team:
            relations:
              member: crm/user or crm/group#member
              account: crm/account
            permissions:
              administer: account->administer
      `,
      'hr/data.yaml': yaml`
        kind: relationships
        namespace: hr
        relationships:
          - team:core#member@crm/user:ana
          - team:core#account@crm/account:acme
      `,
      'root.yaml': yaml`
        kind: relationships
        relationships:
          - crm/group:eng#member@crm/user:bob
      `,
    });
    expect(set.schema.types.get('hr/team')?.relations.get('member')?.allowed).toEqual([
      { type: 'crm/user', relation: undefined, wildcard: false },
      { type: 'crm/group', relation: 'member', wildcard: false },
    ]);
    expect(set.relationships.map((r) => formatRelationship(r.relationship))).toEqual([
      'hr/team:core#member@crm/user:ana',
      'hr/team:core#account@crm/account:acme',
      'crm/group:eng#member@crm/user:bob',
    ]);
    expect(set.relationships[0]?.position).toEqual({ file: 'hr/data.yaml', line: 4, column: 5 });
    expect(set.files).toEqual(['crm/schema.yaml', 'hr/data.yaml', 'hr/schema.yaml', 'root.yaml']);
  });

  it('does not resolve an unqualified name to another namespace', () => {
    expect(
      problemLines({
        'crm/schema.yaml': crmSchema,
        'hr/schema.yaml':
          'kind: schema\nnamespace: hr\ntypes:\n  team:\n    relations:\n      member: user\n',
      }),
    ).toEqual([
      "hr/schema.yaml:6:15: relation 'member': unknown type 'user' (resolved to 'hr/user' in namespace 'hr')",
    ]);
  });

  it('compiles test files into namespaced assertions, lookups and steps with positions', () => {
    const set = compileFiles({
      'crm/schema.yaml': crmSchema,
      'crm/visibility.test.yaml': yaml`
        kind: test
        name: group visibility
        namespace: crm
        relationships:
          - group:sales#member@user:john
        assertions:
          - allowed: contact:p1#view@user:mike
          - denied: contact:p1#view@user:stranger
        lookups:
          - resources: contact#view@user:john
            expect: [contact:p1]
          - subjects: contact:p1#view@user
            expect: [user:mike, user:*]
        steps:
          - write: [group:sales#member@user:mike]
          - delete: [group:sales#member@user:mike]
          - delete_object: group:marketing
          - denied: contact:p1#view@user:mike
          - subjects: contact:p1#view@group#member
            expect: [group:sales#member]
      `,
    });
    const [test] = set.tests;
    expect(test?.name).toBe('group visibility');
    expect(test?.relationships.map((r) => formatRelationship(r.relationship))).toEqual([
      'crm/group:sales#member@crm/user:john',
    ]);
    expect(test?.assertions[0]).toEqual({
      kind: 'allowed',
      check: {
        resource: { type: 'crm/contact', id: 'p1' },
        permission: 'view',
        subject: { type: 'crm/user', id: 'mike' },
      },
      source: 'contact:p1#view@user:mike',
      position: { file: 'crm/visibility.test.yaml', line: 7, column: 14 },
    });
    expect(test?.lookups).toEqual([
      {
        kind: 'resources',
        resourceType: 'crm/contact',
        permission: 'view',
        subject: { type: 'crm/user', id: 'john' },
        expect: [{ type: 'crm/contact', id: 'p1' }],
        source: 'contact#view@user:john',
        position: { file: 'crm/visibility.test.yaml', line: 10, column: 16 },
      },
      {
        kind: 'subjects',
        resource: { type: 'crm/contact', id: 'p1' },
        permission: 'view',
        subjectType: 'crm/user',
        subjectRelation: undefined,
        expect: [
          { type: 'crm/user', id: 'mike' },
          { type: 'crm/user', id: '*' },
        ],
        source: 'contact:p1#view@user',
        position: { file: 'crm/visibility.test.yaml', line: 12, column: 15 },
      },
    ]);
    expect(test?.steps.map((s) => s.kind)).toEqual([
      'write',
      'delete',
      'delete_object',
      'denied',
      'subjects',
    ]);
    expect(test?.steps[2]).toEqual({
      kind: 'delete_object',
      object: { type: 'crm/group', id: 'marketing' },
      position: { file: 'crm/visibility.test.yaml', line: 17, column: 5 },
    });
    const last = test?.steps[4];
    expect(last?.kind === 'subjects' && [last.subjectType, last.subjectRelation, last.expect]).toEqual([
      'crm/group',
      'member',
      [{ type: 'crm/group', id: 'sales', relation: 'member' }],
    ]);
  });

  it('names an unnamed test after its file', () => {
    const set = compileFiles({ 's.yaml': 'kind: schema\ntypes:\n  user: {}\n', 't.yaml': 'kind: test\n' });
    expect(set.tests[0]?.name).toBe('t.yaml');
  });
});

describe('compilePolicySet problems in data and test files', () => {
  it('reports each bad relationship at the part of its list item that is wrong', () => {
    const lines = problemLines({
      'crm/schema.yaml': crmSchema,
      'crm/data.yaml': yaml`
        kind: relationships
        namespace: crm
        relationships:
          - group:eng#member@user:ana
          - group:eng#membr@user:ana
          - grup:eng#member@user:ana
          - contact:c1#owner@user:*
          - contact:c1#view@user:ana
          - contact:c1#owner@group:eng#member
          - not a relationship
          - contact:c1#viewer@group:eng#admin
          - 42
      `,
    });
    expect(lines).toEqual([
      "crm/data.yaml:5:15: type 'crm/group' has no relation 'membr'; did you mean 'member'?",
      "crm/data.yaml:6:5: unknown type 'crm/grup'; did you mean 'crm/group'?",
      "crm/data.yaml:7:22: relation 'crm/contact#owner' does not allow the wildcard 'crm/user:*' in 'crm/contact:c1#owner@crm/user:*'; it allows crm/user",
      "crm/data.yaml:8:16: 'view' is a permission of 'crm/contact', computed from relations; write relationships to one of its relations ('account', 'owner', 'frozen', 'viewer')",
      "crm/data.yaml:9:22: relation 'crm/contact#owner' does not allow subject 'crm/group:eng#member' in 'crm/contact:c1#owner@crm/group:eng#member'; it allows crm/user",
      "crm/data.yaml:10:5: invalid relationship 'not a relationship': expected 'type:id#relation@subject'",
      "crm/data.yaml:11:33: subject set 'crm/group#admin': type 'crm/group' has no relation or permission 'admin'",
      "crm/data.yaml:12:5: each item of 'relationships' must be a string, found number 42",
    ]);
  });

  it('points at the whole item when columns inside it are not exact (escapes, aliases)', () => {
    const lines = problemLines({
      'crm/schema.yaml': crmSchema,
      'crm/data.yaml': yaml`
        kind: relationships
        namespace: crm
        relationships:
          - "group:eng#membr@user:\\u0061na"
          - &bad group:eng#membr@user:bob
          - *bad
      `,
    });
    expect(lines).toEqual([
      "crm/data.yaml:4:5: type 'crm/group' has no relation 'membr'; did you mean 'member'?",
      "crm/data.yaml:5:20: type 'crm/group' has no relation 'membr'; did you mean 'member'?",
      "crm/data.yaml:6:5: type 'crm/group' has no relation 'membr'; did you mean 'member'?",
    ]);
  });

  it('reports bad assertions, lookups and steps', () => {
    const lines = problemLines({
      'crm/schema.yaml': crmSchema,
      'crm/t.yaml': yaml`
        kind: test
        namespace: crm
        assertions:
          - allowed: contact:c1#veiw@user:ana
          - denied: contact:c1#view@usr:ana
          - alowed: contact:c1#view@user:ana
          - allowed: contact:c1#view@user:ana
            denied: contact:c1#view@user:ana
        lookups:
          - resources: contact#view@user:ana
            expect: [contact:c1, group:eng]
          - subjects: contact:c1#view@user
            expect: [user:ana, user:*, group:eng]
          - resources: contact@user:ana
            expect: []
          - subjects: contact:c1#view@user
        steps:
          - write: [contact:c1#viewer@user:x]
          - delete_object: usr:ana
          - wrte: []
          - allowed: contact:c1#view@user:ana
            expect: []
        asertions: []
      `,
    });
    expect(lines).toEqual([
      "crm/t.yaml:4:25: type 'crm/contact' has no permission or relation 'veiw'; did you mean 'view'?",
      "crm/t.yaml:5:29: unknown subject type 'crm/usr'; did you mean 'crm/user'?",
      "crm/t.yaml:6:5: unknown key 'alowed' in an assertion; did you mean 'allowed'? (expected 'allowed', 'denied', 'conditional', 'context', 'now', 'contextual_relationships', 'missing')",
      "crm/t.yaml:7:5: an assertion does one thing, but has 'allowed' and 'denied'; split it into separate items",
      "crm/t.yaml:11:26: expected object 'group:eng' is not of the looked-up type 'crm/contact', so it can never be in the result",
      "crm/t.yaml:13:32: expected subject 'group:eng' is not a 'crm/user', so it can never be in the result",
      "crm/t.yaml:14:16: invalid lookup 'contact@user:ana': expected 'type#permission@type:id'",
      "crm/t.yaml:16:5: a 'subjects' lookup needs 'expect', the exact list of results ([] for none)",
      "crm/t.yaml:18:31: relation 'crm/contact#viewer' does not allow subject 'crm/user:x' in 'crm/contact:c1#viewer@crm/user:x'; it allows crm/user:*, crm/group#member",
      "crm/t.yaml:19:20: unknown type 'crm/usr'; did you mean 'crm/user'?",
      "crm/t.yaml:20:5: unknown key 'wrte' in a step; did you mean 'write'? (expected 'allowed', 'denied', 'conditional', 'resources', 'subjects', 'write', 'delete', 'delete_object', 'expect', 'context', 'now', 'contextual_relationships', 'missing')",
      "crm/t.yaml:22:5: 'expect' belongs to a 'resources' or 'subjects' lookup, not to 'allowed'",
      "crm/t.yaml:23:1: unknown key 'asertions' in a 'test' file; did you mean 'assertions'? (expected 'kind', 'namespace', 'name', 'relationships', 'assertions', 'lookups', 'steps')",
    ]);
  });

  it('reports every problem of every file, sorted by file, line and column, each with its path', () => {
    const problems = problemsOf({
      'z/data.yaml':
        'kind: relationships\nrelationships:\n  - doc:d1#viewer@user:ana\n  - doc:d1#viewr@user:ana\n',
      'a/schema.yaml':
        'kind: schema\ntypes:\n  user: {}\n  doc:\n    relations:\n      viewer: user\n    permissions:\n      view: viewer or ownr\n      edit: nope\n',
      'm/broken.yaml': 'kind: tset\n',
      'a/extra.yaml': 'kind: schema\ntypes:\n  doc: {}\n',
    });
    expect(problems.map((p) => `${formatPolicyProblem(p)} @ ${p.path}`)).toEqual([
      "a/schema.yaml:4:3: duplicate type 'doc': already defined at a/extra.yaml:3:3; define each type in exactly one schema file @ $.types.doc",
      "m/broken.yaml:1:7: unknown kind 'tset'; did you mean 'test'? (expected 'schema', 'relationships' or 'test') @ $.kind",
      "z/data.yaml:3:12: type 'doc' has no relation 'viewer' @ $.relationships[0]",
      "z/data.yaml:4:12: type 'doc' has no relation 'viewr' @ $.relationships[1]",
    ]);
  });

  it('reports every unknown name in a type, not only the first', () => {
    expect(
      problemLines({
        'a/schema.yaml':
          'kind: schema\ntypes:\n  user: {}\n  doc:\n    relations:\n      viewer: user\n    permissions:\n      view: viewer or ownr\n      edit: nope\n',
      }),
    ).toEqual([
      "a/schema.yaml:8:23: unknown relation or permission 'ownr' on type 'doc'",
      "a/schema.yaml:9:13: unknown relation or permission 'nope' on type 'doc'",
    ]);
  });
});
