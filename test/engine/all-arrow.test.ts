// The intersection arrow `via.all(name)` (SpiceDB's `.all()`): true only when `via` names at
// least one object and `name` holds on every one of them. Checks (the empty relation included),
// recursion, partial targets, conditions and expiry (three values), lookups and explain.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { formatExplanation } from '../../server/src/engine/format-explanation.js';
import type { CheckRequest, Engine } from '../../server/src/engine/types.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compileFiles, problemLines, yaml } from '../policy/compile-helpers.js';
import { q } from './fixtures.js';

const SCHEMA = yaml`
  kind: schema
  conditions:
    at_least:
      parameters:
        level: int
        required: int
      expression: level >= required
  types:
    user: {}
    team:
      relations:
        member: user or user with at_least
    folder:
      relations:
        approver: user
    doc:
      relations:
        team: team or team with at_least or folder
        parent: doc
        owner: user
      permissions:
        view_all: team.all(member)
        view_any: team->member
        approve: owner or parent.all(approve)
`;

function engineFor(relationships: readonly string[]): Engine {
  const set = compileFiles({ 'schema.yaml': SCHEMA });
  const graph = GraphIndex.build(
    set.schema,
    relationships.map((r) => parseRelationship(r)),
    1,
  );
  return createEngine(set.schema, graph);
}

const TEAMS = [
  'team:first#member@user:tom',
  'team:first#member@user:fred',
  'team:first#member@user:sarah',
  'team:second#member@user:fred',
  'team:second#member@user:sarah',
  'doc:one#team@team:first',
  'doc:two#team@team:first',
  'doc:two#team@team:second',
];

describe('via.all(name)', () => {
  const engine = engineFor([
    ...TEAMS,
    // A folder has no `member`: a doc naming one fails `.all(member)` (SpiceDB answers the same).
    'doc:mixed#team@team:first',
    'doc:mixed#team@folder:f1',
  ]);

  it('holds when the permission holds on every object, unlike ->', () => {
    expect(engine.check(q('doc:one#view_all@user:tom'))).toBe(true);
    expect(engine.check(q('doc:two#view_all@user:fred'))).toBe(true);
    expect(engine.check(q('doc:two#view_all@user:tom'))).toBe(false);
    expect(engine.check(q('doc:two#view_any@user:tom'))).toBe(true);
  });

  it('is false when the relation names no object', () => {
    expect(engine.check(q('doc:none#view_all@user:tom'))).toBe(false);
    expect(engine.check(q('doc:never_seen#view_all@user:tom'))).toBe(false);
  });

  it('fails on an object whose type lacks the target', () => {
    expect(engine.check(q('doc:mixed#view_all@user:tom'))).toBe(false);
    expect(engine.check(q('doc:mixed#view_any@user:tom'))).toBe(true);
  });

  it('lists exactly the resources and subjects that hold it', () => {
    const resources = (id: string): readonly string[] =>
      engine.lookupResources({ resourceType: 'doc', permission: 'view_all', subject: { type: 'user', id } })
        .resourceIds;
    expect(resources('tom')).toEqual(['one']);
    expect(resources('fred')).toEqual(['one', 'two']);
    expect(resources('nobody')).toEqual([]);
    const subjects = (id: string): readonly string[] =>
      engine.lookupSubjects({ resource: { type: 'doc', id }, permission: 'view_all', subjectType: 'user' })
        .subjectIds;
    expect(subjects('two')).toEqual(['fred', 'sarah']);
    expect(subjects('mixed')).toEqual([]);
    expect(subjects('none')).toEqual([]);
  });

  it('explains every object tried, and the empty relation', () => {
    const denied = formatExplanation(engine.explain(q('doc:two#view_all@user:tom')));
    expect(denied).toContain('✗ doc:two team.all(member)');
    expect(denied).toContain('✓ team:first#member (relation)');
    expect(denied).toContain('✗ team:second#member (relation)');
    const allowed = engine.explain(q('doc:two#view_all@user:fred'));
    expect(allowed.allowed).toBe(true);
    expect(allowed.root.children[0]!.children).toHaveLength(2);
    const empty = formatExplanation(engine.explain(q('doc:none#view_all@user:tom')));
    expect(empty).toContain("doc:none#team names no object, so 'team.all(member)' is false");
    const partial = formatExplanation(engine.explain(q('doc:mixed#view_all@user:tom')));
    expect(partial).toContain("folder:f1 has no relation or permission 'member'");
  });
});

describe('via.all(name) recursing through its own type', () => {
  // Every ancestor must approve (or own): a chain of parents, each with an owner.
  const engine = engineFor([
    'doc:root#owner@user:ann',
    'doc:mid#parent@doc:root',
    'doc:leaf#parent@doc:mid',
    'doc:mid#owner@user:bob',
    'doc:two_parents#parent@doc:root',
    'doc:two_parents#parent@doc:orphan',
    'doc:loop_a#parent@doc:loop_b',
    'doc:loop_b#parent@doc:loop_a',
  ]);

  it('follows the chain and needs every parent', () => {
    expect(engine.check(q('doc:leaf#approve@user:ann'))).toBe(true);
    expect(engine.check(q('doc:leaf#approve@user:bob'))).toBe(true);
    expect(engine.check(q('doc:root#approve@user:bob'))).toBe(false);
    expect(engine.check(q('doc:two_parents#approve@user:ann'))).toBe(false);
    // A cycle of parents with no owner proves nothing (least fixed point).
    expect(engine.check(q('doc:loop_a#approve@user:ann'))).toBe(false);
    expect(
      engine.lookupResources({
        resourceType: 'doc',
        permission: 'approve',
        subject: { type: 'user', id: 'ann' },
      }).resourceIds,
    ).toEqual(['leaf', 'mid', 'root']);
  });
});

describe('via.all(name) with conditions and expiry', () => {
  const NOW = Date.parse('2026-06-01T00:00:00Z');
  const at = (tuple: string, context?: Record<string, unknown>): CheckRequest => ({
    ...q(tuple),
    context,
    now: NOW,
  });
  const engine = engineFor([
    ...TEAMS,
    'team:cond#member@user:tom[at_least:{"required":5}]',
    'doc:cond_member#team@team:first',
    'doc:cond_member#team@team:cond',
    'doc:cond_edge#team@team:first[at_least:{"required":5}]',
    'doc:cond_edge#team@team:second',
    'doc:expired#team@team:first',
    'doc:expired#team@team:second[expiration:2026-01-01T00:00:00Z]',
  ]);

  it('is conditional when an object holds it only conditionally', () => {
    expect(engine.decide(at('doc:cond_member#view_all@user:tom'))).toEqual({
      permissionship: 'conditional',
      missingContext: ['level'],
    });
    expect(engine.decide(at('doc:cond_member#view_all@user:tom', { level: 9 })).permissionship).toBe(
      'allowed',
    );
    expect(engine.decide(at('doc:cond_member#view_all@user:tom', { level: 1 })).permissionship).toBe(
      'denied',
    );
  });

  it('fails when a relationship of the relation does not grant, as SpiceDB answers', () => {
    expect(engine.decide(at('doc:cond_edge#view_all@user:fred')).permissionship).toBe('conditional');
    expect(engine.decide(at('doc:cond_edge#view_all@user:fred', { level: 5 })).permissionship).toBe(
      'allowed',
    );
    // The condition is false: the relationship still exists, and the arrow fails on it rather
    // than looking at team:second alone (SpiceDB's `negativeteam`).
    expect(engine.decide(at('doc:cond_edge#view_all@user:fred', { level: 4 })).permissionship).toBe('denied');
    // tom is in team:first only: the arrow fails on team:second whatever the condition says.
    expect(engine.decide(at('doc:cond_edge#view_all@user:tom', { level: 5 })).permissionship).toBe('denied');
  });

  it('ignores an expired relationship: it no longer exists', () => {
    expect(engine.decide(at('doc:expired#view_all@user:tom')).permissionship).toBe('allowed');
  });
});

describe('via.all(name) in policy files', () => {
  it('is refused where an ordinary arrow would be, with positions', () => {
    expect(
      problemLines({
        'schema.yaml': yaml`
          kind: schema
          types:
            user: {}
            team:
              relations:
                member: user
            doc:
              relations:
                team: team
                open: user:*
              permissions:
                a: view.all(member)
                b: team.all(nothing)
                c: open.all(member)
                view: team->member
        `,
      }),
    ).toEqual([
      "schema.yaml:12:10: arrow 'view.all(member)': 'view' is a permission; an arrow must start from a relation",
      "schema.yaml:13:19: arrow 'team.all(nothing)': no type relation 'team' allows ('team') has a relation or permission 'nothing'",
      "schema.yaml:14:10: arrow 'open.all(member)' goes through relation 'open', which allows 'user:*'; a wildcard names no object to follow, so remove it from 'open' or add a separate relation for it",
    ]);
  });
});
