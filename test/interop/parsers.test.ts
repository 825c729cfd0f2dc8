// The OpenFGA and SpiceDB parsers and importers: the constructs they map, what they report as
// not importable, and where their syntax errors point.
import { describe, expect, it } from 'vitest';
import { importOpenFga, importSpiceDb } from '../../server/src/interop/import.js';
import { parseOpenFgaDsl } from '../../server/src/interop/openfga/parse-dsl.js';
import { parseOpenFgaJson } from '../../server/src/interop/openfga/parse-json.js';
import { importOpenFgaModel } from '../../server/src/interop/openfga/to-gatehouse.js';
import { parseSpiceDbSchema } from '../../server/src/interop/spicedb/parse-schema.js';
import { importSpiceDbSchema } from '../../server/src/interop/spicedb/to-gatehouse.js';
import { formatExpression } from '../../server/src/schema/format-expression.js';

const perms = (
  types: { name: string; permissions: { name: string; expr: Parameters<typeof formatExpression>[0] }[] }[],
) =>
  Object.fromEntries(
    types.flatMap((t) => t.permissions.map((p) => [`${t.name}#${p.name}`, formatExpression(p.expr)])),
  );

describe('OpenFGA', () => {
  const dsl = `model
  schema 1.1
type user
type doc
  relations
    define owner: [user]
    define parent: [doc]
    define viewer: [user, user:*] or owner or viewer from parent # inherited
    define can_edit: (owner and viewer) but not blocked
    define blocked: [user with in_office]
condition in_office(ip: ipaddress) {
  ip.in_cidr("10.0.0.0/8")
}
`;

  it('maps definitions to relations and permissions, keeping mixed ones apart', () => {
    const model = importOpenFgaModel(parseOpenFgaDsl(dsl));
    expect(perms(model.types)).toEqual({
      'doc#viewer': 'viewer_direct or owner or parent->viewer',
      'doc#can_edit': 'owner and viewer but not blocked',
    });
    expect(model.storedAs.get('doc#viewer')).toBe('viewer_direct');
    expect(model.unsupported).toEqual([]);
    expect(model.conditions).toEqual([
      {
        name: 'in_office',
        parameters: [['ip', 'ipaddress']],
        expression: 'ip.in_cidr("10.0.0.0/8")',
        comment: 'OpenFGA: condition in_office(ip: ipaddress)',
      },
    ]);
    const blocked = model.types.find((t) => t.name === 'doc')!.relations.find((r) => r.name === 'blocked')!;
    expect(blocked.allowed).toEqual(['user with in_office']);
  });

  it('renames stored tuples of mixed definitions and carries tuple conditions with their context', () => {
    const result = importOpenFga(
      dsl,
      [
        { object: 'doc:1', relation: 'viewer', user: 'user:ann' },
        { object: 'doc:1', relation: 'blocked', user: 'user:bob', condition: { name: 'in_office' } },
        {
          object: 'doc:2',
          relation: 'blocked',
          user: 'user:cy',
          condition: { name: 'in_office', context: { ip: '10.1.2.3' } },
        },
        { object: 'doc:3', relation: 'blocked', user: 'user:di', condition: { context: {} } },
      ],
      'model.fga',
    );
    const data = result.files.find((f) => f.path === 'relationships.yaml')!.content;
    expect(data).toContain('"doc:1#viewer_direct@user:ann"');
    expect(data).toContain('"doc:1#blocked@user:bob[in_office]"');
    expect(data).toContain('"doc:2#blocked@user:cy[in_office:{\\"ip\\":\\"10.1.2.3\\"}]"');
    expect(data).not.toContain('user:di');
    expect(result.unsupported).toEqual([
      { feature: 'condition', where: 'tuple doc:3#blocked@user:di', detail: "a condition needs a 'name'" },
    ]);
    const schema = result.files.find((f) => f.path === 'schema.yaml')!.content;
    expect(schema).toContain('conditions:\n  # OpenFGA: condition in_office(ip: ipaddress)\n  in_office:');
    expect(schema).toContain('# OpenFGA: define viewer: [user, user:*] or owner or viewer from parent');
  });

  it('reports precisely a condition whose parameter type or CEL Gatehouse cannot compile', () => {
    const model = importOpenFgaModel(
      parseOpenFgaDsl(`model
  schema 1.1
type user
type doc
  relations
    define viewer: [user with odd, user with typo]
condition odd(x: decimal) {
  x > 1
}
condition typo(x: int) {
  y > 1
}
`),
    );
    expect(model.conditions).toEqual([]);
    expect(model.unsupported.map((u) => [u.where, u.detail.split(';')[0]])).toEqual([
      ['condition odd (line 7)', "parameter 'x': 'decimal' is not a parameter type"],
      ['condition typo (line 10)', expect.stringContaining('the CEL expression does not compile here')],
      ['doc#viewer', "'user with odd': the condition is not declared, or could not be imported"],
      ['doc#viewer', "'user with typo': the condition is not declared, or could not be imported"],
    ]);
  });

  it('reads the JSON model form the same way', () => {
    const json = JSON.stringify({
      schema_version: '1.1',
      type_definitions: [
        { type: 'user' },
        {
          type: 'doc',
          relations: {
            owner: { this: {} },
            viewer: { union: { child: [{ this: {} }, { computedUserset: { relation: 'owner' } }] } },
          },
          metadata: {
            relations: {
              owner: { directly_related_user_types: [{ type: 'user' }] },
              viewer: { directly_related_user_types: [{ type: 'user' }, { type: 'user', wildcard: {} }] },
            },
          },
        },
      ],
    });
    const model = importOpenFgaModel(parseOpenFgaJson(json));
    expect(perms(model.types)).toEqual({ 'doc#viewer': 'viewer_direct or owner' });
    expect(model.types[1]!.relations).toContainEqual(
      expect.objectContaining({ name: 'viewer_direct', allowed: ['user', 'user:*'] }),
    );
  });

  it('renames type names Gatehouse does not accept, in the schema and in tuples', () => {
    const result = importOpenFga(
      'model\n  schema 1.1\ntype user\ntype scopeA\n  relations\n    define public: [user:*]\ntype resource\n  relations\n    define access: [scopeA#public]\n',
      [{ object: 'resource:1', relation: 'access', user: 'scopeA:A#public' }],
      'model.fga',
    );
    expect(result.unsupported).toEqual([]);
    expect(result.typeNames).toEqual(new Map([['scopeA', 'scope_a']]));
    const schema = result.files.find((f) => f.path === 'schema.yaml')!.content;
    expect(schema).toContain("# OpenFGA type 'scopeA', renamed: Gatehouse type names are lowercase");
    expect(schema).toContain('access: "scope_a#public"');
    expect(result.files.find((f) => f.path === 'relationships.yaml')!.content).toContain(
      '"resource:1#access@scope_a:A#public"',
    );
  });

  it('points syntax errors at their line and column', () => {
    expect(() =>
      parseOpenFgaDsl('model\n  schema 1.1\ntype doc\n  relations\n    define a: [user,\n'),
    ).toThrow(/^line 5, column \d+: expected a type name$/);
    expect(() =>
      parseOpenFgaDsl('model\n  schema 1.1\ntype doc\n  relations\n    define a: b or (c\n'),
    ).toThrow("line 5, column 22: expected ')'");
  });
});

describe('SpiceDB', () => {
  it('parses - loosest, then &, then +, left to right, and maps nil, arrows and #...', () => {
    const schema = parseSpiceDbSchema(`/** docs */
definition user {}
definition doc {
  relation parent: doc
  relation a: user | user:*
  relation b: user
  relation c: user
  permission p1 = a - b + c // a - (b + c)
  permission p2 = a - b - c
  permission p3 = a + b & c
  permission p4 = parent->p1 + parent.any(p2)
  permission p5 = nil
}`);
    const model = importSpiceDbSchema(schema);
    expect(perms(model.types)).toEqual({
      'doc#p1': 'a but not b or c', // `but not` binds loosest in Gatehouse too
      'doc#p2': 'a but not b but not c',
      'doc#p3': '(a or b) and c',
      'doc#p4': 'parent->p1 or parent->p2',
      'doc#p5': 'nil_relation',
    });
    expect(model.types[1]!.relations.at(-1)).toEqual(
      expect.objectContaining({ name: 'nil_relation', allowed: ['doc'] }),
    );
  });

  it('imports caveats as conditions, expiry and caveated relationships as written, and .all() arrows', () => {
    const result = importSpiceDb(
      `schema: |-
  use expiration
  caveat ok(x int) { x > 1 }
  definition user {}
  definition doc {
    relation parent: doc
    relation viewer: user with ok | user with expiration
    permission view = parent.all(view) + viewer
  }
relationships: |-
  doc:1#viewer@user:ann[ok:{"x":2}]
  doc:1#parent@doc:2
assertions:
  assertTrue:
    - doc:2#view@user:ann with {"x": 2}
  assertFalse:
    - doc:1#view@user:bob#...
`,
      'v.yaml',
      true,
    );
    expect(result.unsupported).toEqual([]);
    const schema = result.files.find((f) => f.path === 'schema.yaml')!.content;
    expect(schema).toContain('view: "parent.all(view) or viewer"');
    expect(schema).toContain('viewer: "user with ok or user"');
    expect(schema).toContain('  ok:\n    parameters:\n      x: "int"\n    expression: |-\n      x > 1');
    const data = result.files.find((f) => f.path === 'relationships.yaml')!.content;
    expect(data).toContain('"doc:1#viewer@user:ann[ok:{\\"x\\":2}]"');
    expect(result.assertions).toEqual([
      { kind: 'allowed', check: 'doc:2#view@user:ann', context: { x: 2 } },
      { kind: 'denied', check: 'doc:1#view@user:bob' },
    ]);
    const test = result.files.find((f) => f.path === 'imported.test.yaml')!.content;
    expect(test).toContain('- denied: "doc:1#view@user:bob"');
    expect(test).toContain('#   allowed: doc:2#view@user:ann with {"x":2}');
  });

  it('points syntax errors at their line', () => {
    expect(() => parseSpiceDbSchema('definition doc {\n  relation a: user\n  permission p = a +\n}')).toThrow(
      "line 4: expected a relation or permission name, found '}'",
    );
  });
});
