// Models SpiceDB and OpenFGA accept and Gatehouse used to refuse: each compiles from policy
// text, answers checks and lookups correctly, and explains its answer.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { formatExplanation } from '../../server/src/engine/format-explanation.js';
import type { Engine } from '../../server/src/engine/types.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compileFiles, yaml } from '../policy/compile-helpers.js';
import { q } from './fixtures.js';

function engineFor(schema: string, relationships: readonly string[]): Engine {
  const set = compileFiles({ 'schema.yaml': schema });
  const graph = GraphIndex.build(
    set.schema,
    relationships.map((r) => parseRelationship(r)),
    1,
  );
  return createEngine(set.schema, graph);
}

describe('a subject set naming a permission', () => {
  const schema = yaml`
    kind: schema
    types:
      user: {}
      group:
        relations:
          member: user
          manager: user
        permissions:
          membership: member or manager
      doc:
        relations:
          viewer: user or group#membership
  `;
  const engine = engineFor(schema, ['group:eng#manager@user:ann', 'doc:d1#viewer@group:eng#membership']);

  it('answers checks, lookups and explain through the permission', () => {
    expect(engine.check(q('doc:d1#viewer@user:ann'))).toBe(true);
    expect(engine.check(q('doc:d1#viewer@user:bob'))).toBe(false);
    expect(engine.check(q('doc:d1#viewer@group:eng#membership'))).toBe(true);
    expect(
      engine.lookupResources({
        resourceType: 'doc',
        permission: 'viewer',
        subject: { type: 'user', id: 'ann' },
      }).resourceIds,
    ).toEqual(['d1']);
    expect(
      engine.lookupSubjects({
        resource: { type: 'doc', id: 'd1' },
        permission: 'viewer',
        subjectType: 'user',
      }).subjectIds,
    ).toEqual(['ann']);
    expect(formatExplanation(engine.explain(q('doc:d1#viewer@user:ann')))).toContain(
      '✓ group:eng#membership (permission)',
    );
  });

  it('is accepted in a kind: test file too', () => {
    const set = compileFiles({
      'schema.yaml': schema,
      'data.yaml': 'kind: relationships\nrelationships:\n  - doc:d1#viewer@group:eng#membership\n',
      'a.test.yaml': yaml`
        kind: test
        name: permission subject sets
        relationships:
          - group:eng#member@user:cy
        assertions:
          - allowed: doc:d1#viewer@group:eng#membership
          - allowed: doc:d1#viewer@user:cy
        lookups:
          - subjects: doc:d1#viewer@group#membership
            expect: [group:eng#membership]
      `,
    });
    expect(set.tests[0]!.assertions).toHaveLength(2);
  });
});

describe('an arrow whose target only some types define, through subject sets', () => {
  const engine = engineFor(
    yaml`
      kind: schema
      types:
        user: {}
        team:
          relations:
            member: user
        folder:
          relations:
            viewer: user
            member: user
        doc:
          relations:
            parent: folder or team or folder#member
          permissions:
            view: parent->viewer
    `,
    [
      'folder:f1#viewer@user:ann',
      'doc:d1#parent@folder:f1',
      'doc:d1#parent@team:t1',
      'folder:f2#viewer@user:bob',
      'doc:d2#parent@folder:f2#member',
    ],
  );

  it('evaluates the types that define the target and skips the others', () => {
    expect(engine.check(q('doc:d1#view@user:ann'))).toBe(true);
    expect(engine.check(q('doc:d1#view@user:bob'))).toBe(false);
  });

  it("walks a subject set to its subject's object, as SpiceDB does", () => {
    expect(engine.check(q('doc:d2#view@user:bob'))).toBe(true);
    expect(
      engine.lookupResources({
        resourceType: 'doc',
        permission: 'view',
        subject: { type: 'user', id: 'bob' },
      }).resourceIds,
    ).toEqual(['d2']);
    expect(
      engine.lookupSubjects({ resource: { type: 'doc', id: 'd2' }, permission: 'view', subjectType: 'user' })
        .subjectIds,
    ).toEqual(['bob']);
    expect(formatExplanation(engine.explain(q('doc:d2#view@user:bob')))).toContain(
      '✓ folder:f2#viewer (relation)',
    );
  });
});

describe('recursion through but not', () => {
  // OpenFGA's true_butnot_cycle_return_false, and a schema that recurses but data that does not.
  const schema = yaml`
    kind: schema
    types:
      user: {}
      doc:
        relations:
          direct: user
          restricted: user or doc#viewer
          parent: doc
        permissions:
          viewer: direct but not restricted
          inherited: direct or parent->inherited but not parent->viewer
  `;

  it('answers like a stratified schema when the data forms no cycle', () => {
    const engine = engineFor(schema, [
      'doc:d1#direct@user:jon',
      'doc:d2#direct@user:jon',
      'doc:d2#restricted@doc:d1#viewer',
      'doc:d3#direct@user:ann',
      'doc:d3#restricted@user:ann',
    ]);
    expect(engine.check(q('doc:d1#viewer@user:jon'))).toBe(true);
    // jon is a viewer of d1, so d2 restricts him.
    expect(engine.check(q('doc:d2#viewer@user:jon'))).toBe(false);
    expect(engine.check(q('doc:d3#viewer@user:ann'))).toBe(false);
    expect(
      engine.lookupResources({
        resourceType: 'doc',
        permission: 'viewer',
        subject: { type: 'user', id: 'jon' },
      }).resourceIds,
    ).toEqual(['d1']);
  });

  it('denies, without hanging, when the data forms a cycle through exclusion (as OpenFGA answers)', () => {
    const engine = engineFor(schema, ['doc:d1#direct@user:jon', 'doc:d1#restricted@doc:d1#viewer']);
    expect(engine.check(q('doc:d1#viewer@user:jon'))).toBe(false);
    expect(engine.check(q('doc:d1#restricted@user:jon'))).toBe(false);
    expect(
      engine.lookupResources({
        resourceType: 'doc',
        permission: 'viewer',
        subject: { type: 'user', id: 'jon' },
      }).resourceIds,
    ).toEqual([]);
    const text = formatExplanation(engine.explain(q('doc:d1#viewer@user:jon')));
    expect(text).toContain("recurses through 'but not': decided by the well-founded semantics");
  });

  it('decides a long parent chain with alternating exclusion', () => {
    const chain = Array.from({ length: 40 }, (_, i) => `doc:c${i + 1}#parent@doc:c${i}`);
    const engine = engineFor(schema, ['doc:c0#direct@user:jon', ...chain]);
    expect(engine.check(q('doc:c0#inherited@user:jon'))).toBe(true);
    expect(engine.check(q('doc:c1#inherited@user:jon'))).toBe(false);
  });
});
