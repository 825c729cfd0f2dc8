// Type names with several namespace levels (`org/identity/user`, as SpiceDB allows): accepted in
// the `namespace:` of policy files, type lists, relationship strings, test files and the
// engine's requests; more than 7 levels is refused with a clear message.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { q } from '../engine/fixtures.js';
import { compileFiles, problemLines, yaml } from './compile-helpers.js';

const FILES = {
  'identity.yaml': yaml`
    kind: schema
    namespace: org/identity_team
    types:
      user: {}
      group:
        relations:
          member: user or group#member
  `,
  'docs.yaml': yaml`
    kind: schema
    namespace: org/docs_team
    types:
      resource:
        relations:
          viewer: org/identity_team/group#member
          owner: org/identity_team/user
        permissions:
          view: viewer or owner
  `,
  'data.yaml': yaml`
    kind: relationships
    namespace: org/docs_team
    relationships:
      - resource:r1#viewer@org/identity_team/group:eng#member
      - org/identity_team/group:eng#member@org/identity_team/user:ann
  `,
  'a.test.yaml': yaml`
    kind: test
    name: several levels
    namespace: org/docs_team
    assertions:
      - allowed: resource:r1#view@org/identity_team/user:ann
      - denied: resource:r1#view@org/identity_team/user:bob
  `,
};

describe('type names with several namespace levels', () => {
  it('compile, resolve unqualified names in their namespace, and answer', () => {
    const set = compileFiles(FILES);
    expect([...set.schema.types.keys()].sort()).toEqual([
      'org/docs_team/resource',
      'org/identity_team/group',
      'org/identity_team/user',
    ]);
    expect(set.tests[0]!.assertions).toHaveLength(2);
    const graph = GraphIndex.build(
      set.schema,
      set.relationships.map((r) => r.relationship),
      1,
    );
    const engine = createEngine(set.schema, graph);
    expect(engine.check(q('org/docs_team/resource:r1#view@org/identity_team/user:ann'))).toBe(true);
    expect(engine.check(q('org/docs_team/resource:r1#view@org/identity_team/user:bob'))).toBe(false);
  });

  it('parse in relationship strings', () => {
    expect(parseRelationship('a/b/c/doc:1#viewer@a/b/user:ann#member').subject).toEqual({
      type: 'a/b/user',
      id: 'ann',
      relation: 'member',
    });
    expect(() => parseRelationship('a/b/c/d/e/f/g/h/doc:1#viewer@user:ann')).toThrow(
      "type 'a/b/c/d/e/f/g/h/doc' must be a lowercase name",
    );
  });

  it('refuse a namespace of more than 7 levels, or one naming a reserved word', () => {
    const schema = (namespace: string): Record<string, string> => ({
      's.yaml': `kind: schema\nnamespace: ${namespace}\ntypes:\n  user: {}\n`,
    });
    const message =
      "is not a valid name; use lowercase letters, digits and '_', starting with a letter, at most 63 characters, and '/' between levels ('org/sales'), at most 7 levels";
    expect(problemLines(schema('a/b/c/d/e/f/g/h'))).toEqual([
      `s.yaml:2:12: namespace 'a/b/c/d/e/f/g/h' ${message}`,
    ]);
    expect(problemLines(schema('org/or'))).toEqual([`s.yaml:2:12: namespace 'org/or' ${message}`]);
    expect(problemLines(schema('org//x'))).toEqual([`s.yaml:2:12: namespace 'org//x' ${message}`]);
    expect(compileFiles(schema('a/b/c/d/e/f/g')).schema.types.has('a/b/c/d/e/f/g/user')).toBe(true);
  });
});
