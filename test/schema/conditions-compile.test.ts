// Conditions in schema files: compiled and type-checked once at load, every problem reported
// with file:line:column; relationships that name them are validated like the rest of a write.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../server/src/errors.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compileCondition } from '../../server/src/schema/cel-condition.js';
import { validateRelationship } from '../../server/src/schema/validate.js';
import { compileFiles, problemLines, yaml } from '../policy/compile-helpers.js';

const schemaFile = yaml`
  kind: schema
  conditions:
    ip_allowlist:
      parameters:
        cidr: string
        ip: ipaddress
      expression: ip.in_cidr(cidr)
    before:
      parameters:
        now: timestamp
        deadline: timestamp
      expression: now < deadline
  types:
    user: {}
    doc:
      relations:
        viewer: user or user with ip_allowlist
        guest: user with before
`;

describe('conditions in a schema file', () => {
  it('compiles: the relation lists the conditions its subject kinds may carry', () => {
    const schema = compileFiles({ 'schema.yaml': schemaFile }).schema;
    expect([...(schema.conditions?.keys() ?? [])].sort()).toEqual(['before', 'ip_allowlist']);
    const viewer = schema.types.get('doc')!.relations.get('viewer')!;
    expect(viewer.allowed).toEqual([
      {
        type: 'user',
        relation: undefined,
        wildcard: false,
        conditions: ['ip_allowlist'],
        requiresCondition: false,
      },
    ]);
    const guest = schema.types.get('doc')!.relations.get('guest')!;
    expect(guest.allowed[0]!.requiresCondition).toBe(true);
  });

  it('reports every problem at once, each at its line and column', () => {
    const lines = problemLines({
      'schema.yaml': yaml`
        kind: schema
        conditions:
          a:
            parameters:
              n: int
            expression: n > "x"
          b:
            parameters:
              n: integer
            expression: n > 1
          c:
            parameters:
              n: int
            expression: m > 1
          d:
            parameters:
              n: int
            expression: n >
          e:
            parameters:
              n: int
            expression: n + 1
        types:
          user: {}
          doc:
            relations:
              viewer: user with nope
      `,
    });
    expect(lines).toEqual([
      expect.stringMatching(/^schema\.yaml:6:19: .*condition 'a' does not type-check: .*overload/),
      expect.stringMatching(/^schema\.yaml:9:10: .*'integer' is not a parameter type/),
      expect.stringMatching(
        /^schema\.yaml:14:17: .*condition 'c' reads 'm', which is not one of its parameters/,
      ),
      expect.stringMatching(/^schema\.yaml:18:19: .*condition 'd'/),
      expect.stringMatching(/^schema\.yaml:22:17: .*condition 'e' must evaluate to a bool/),
      expect.stringMatching(/^schema\.yaml:27:15: .*condition 'nope', which is not declared/),
    ]);
  });

  it("refuses 'expiration' as a condition name (the bracket notation reserves it)", () => {
    const lines = problemLines({
      's.yaml': yaml`
        kind: schema
        conditions:
          expiration:
            parameters: {}
            expression: "true"
        types:
          user: {}
      `,
    });
    expect(lines).toEqual([expect.stringMatching(/'expiration' is reserved/)]);
  });

  it('refuses a nested comprehension: it is over the cost limit', () => {
    const lines = problemLines({
      's.yaml': yaml`
        kind: schema
        conditions:
          slow:
            parameters:
              l: list<int>
            expression: l.all(x, l.all(y, x + y > 0))
        types:
          user: {}
      `,
    });
    expect(lines).toEqual([expect.stringMatching(/nests a comprehension/)]);
  });
});

describe('relationships naming conditions', () => {
  const schema = compileFiles({ 'schema.yaml': schemaFile }).schema;
  const accepts = (r: string): void => validateRelationship(schema, parseRelationship(r));
  const refusal = (r: string): string => {
    try {
      accepts(r);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      return (err as Error).message;
    }
    throw new Error(`'${r}' was accepted`);
  };

  it('accepts an allowed condition with well-typed stored values, and the bare form where listed', () => {
    accepts('doc:1#viewer@user:a');
    accepts('doc:1#viewer@user:a[ip_allowlist:{"cidr":"10.0.0.0/8"}]');
    accepts('doc:1#guest@user:a[before:{"deadline":"2026-12-31T00:00:00Z"}]');
    accepts('doc:1#viewer@user:a[expiration:2026-12-31T00:00:00Z]');
  });

  it('refuses an undeclared condition, one the relation does not allow, a missing required one, a wrong type', () => {
    expect(refusal('doc:1#viewer@user:a[ip_allowlst]')).toMatch(
      /does not declare.*did you mean 'ip_allowlist'/,
    );
    expect(refusal('doc:1#viewer@user:a[before]')).toMatch(/does not allow condition 'before'/);
    expect(refusal('doc:1#guest@user:a')).toMatch(/requires a condition/);
    expect(refusal('doc:1#viewer@user:a[ip_allowlist:{"cidr":10}]')).toMatch(
      /parameter 'cidr' of condition 'ip_allowlist' is string: expected a string/,
    );
    expect(refusal('doc:1#viewer@user:a[ip_allowlist:{"ip":"nope"}]')).toMatch(/expected an IP address/);
    expect(refusal('doc:1#viewer@user:a[ip_allowlist:{"zzz":1}]')).toMatch(/has no parameter 'zzz'/);
  });
});

describe('ip.in_cidr', () => {
  const schema = compileFiles({ 'schema.yaml': schemaFile }).schema;
  const program = compileCondition(schema.conditions!.get('ip_allowlist')!);
  if (Array.isArray(program)) throw new Error('ip_allowlist does not compile');
  const inCidr = (ip: string, cidr: string): unknown =>
    program.evaluate(program.bind({ ip, cidr }), new Map());

  it.each([
    ['10.1.2.3', '10.0.0.0/8', true],
    ['11.0.0.1', '10.0.0.0/8', false],
    ['192.168.1.7', '192.168.1.7', true],
    ['192.168.1.8', '192.168.1.7/32', false],
    ['8.8.8.8', '0.0.0.0/0', true],
    ['2001:db8::1', '2001:db8::/32', true],
    ['2001:db9::1', '2001:db8::/32', false],
    ['10.0.0.1', '2001:db8::/32', false],
  ])('%s in %s: %s', (ip, cidr, expected) => {
    expect(inCidr(ip, cidr)).toBe(expected);
  });

  it('a bad CIDR is an evaluation error naming it, not a silent false', () => {
    expect(() => inCidr('10.0.0.1', '10.0.0.0/40')).toThrow(/'10.0.0.0\/40' is not a CIDR block/);
    // INVALID_ARGUMENT (a 400 over HTTP), not an internal error.
    expect(() => inCidr('10.0.0.1', '10.0.0.0/40')).toThrow(InvalidArgumentError);
  });
});

describe('presence tests on a missing parameter', () => {
  const schema = compileFiles({
    'schema.yaml': yaml`
      kind: schema
      conditions:
        owner_matches:
          parameters:
            resource: map<any>
            owner: string
          expression: has(resource.properties) && resource.properties.ownerID == owner
        not_flagged:
          parameters:
            resource: map<any>
            open: bool
          expression: open || !has(resource.flagged)
      types:
        user: {}
        doc:
          relations:
            viewer: user with owner_matches or user with not_flagged
    `,
  }).schema;
  const programOf = (name: string) => {
    const program = compileCondition(schema.conditions!.get(name)!);
    if (Array.isArray(program)) throw new Error(`${name} does not compile`);
    return program;
  };

  it('is conditional on the missing parameter, never a silent deny or allow', () => {
    const owner = programOf('owner_matches');
    // has() on an unbound `resource` would read "absent": false, a silent deny.
    expect(owner.evaluate(owner.bind({ owner: 'ann' }), new Map())).toEqual(['resource']);
    const flagged = programOf('not_flagged');
    // …and !has() a silent allow.
    expect(flagged.evaluate(flagged.bind({ open: false }), new Map())).toEqual(['resource']);
  });

  it('decides once the parameter is there, present field or not', () => {
    const owner = programOf('owner_matches');
    const stored = owner.bind({ owner: 'ann' });
    expect(owner.evaluate(stored, owner.bind({ resource: { properties: { ownerID: 'ann' } } }))).toBe(true);
    expect(owner.evaluate(stored, owner.bind({ resource: { properties: { ownerID: 'bob' } } }))).toBe(false);
    expect(owner.evaluate(stored, owner.bind({ resource: {} }))).toBe(false);
    const flagged = programOf('not_flagged');
    expect(flagged.evaluate(flagged.bind({ open: false }), flagged.bind({ resource: {} }))).toBe(true);
    expect(flagged.evaluate(flagged.bind({ open: false }), flagged.bind({ resource: { flagged: 1 } }))).toBe(
      false,
    );
  });
});
