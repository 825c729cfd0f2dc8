// Focused behaviour of check: nesting, cycles (least fixed point), wildcards with exclusion,
// subject-set subjects, unseen objects, depth limits on very deep graphs, and request errors.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { DepthExceededError, InvalidArgumentError } from '../../server/src/errors.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { crmSchema, engineOf, q } from './fixtures.js';
import { arrow, defineSchema, or, ref } from './schema-builder.js';

describe('check', () => {
  it('follows nested groups to any depth within the limit', () => {
    const { engine } = engineOf(crmSchema, [
      'group:eng#member@user:mike',
      'group:staff#member@group:eng#member',
      'group:all#member@group:staff#member',
      'doc:plan#viewer@group:all#member',
    ]);
    expect(engine.check(q('doc:plan#view@user:mike'))).toBe(true);
    expect(engine.check(q('group:all#member@user:mike'))).toBe(true);
    expect(engine.check(q('group:eng#member@user:john'))).toBe(false);
    expect(engine.check(q('doc:plan#view@user:john'))).toBe(false);
  });

  it('answers through group cycles, with and without the closure', () => {
    const rels = [
      'group:a#member@group:b#member',
      'group:b#member@group:c#member',
      'group:c#member@group:a#member',
      'group:c#member@user:mike',
    ];
    for (const closure of [true, false]) {
      const { engine, graph } = engineOf(crmSchema, rels);
      if (!closure) graph.relation('group', 'member')!.closure!.suspend();
      for (const g of ['a', 'b', 'c']) expect(engine.check(q(`group:${g}#member@user:mike`))).toBe(true);
      expect(engine.check(q('group:a#member@user:john'))).toBe(false);
      expect(engine.check(q('group:a#member@group:a#member'))).toBe(true);
    }
  });

  it('finds a grant that lies past a cut cycle (least fixed point, no stale false)', () => {
    // d1 -> d2 -> d1 is a cycle; d2's only grant is through d3. Evaluating d1 cuts at d1 while
    // d2 is still undecided, then must still find d3's owner.
    const { engine } = engineOf(crmSchema, [
      'doc:d1#parent@doc:d2',
      'doc:d2#parent@doc:d1',
      'doc:d2#parent@doc:d3',
      'doc:d3#owner@user:mike',
    ]);
    expect(engine.check(q('doc:d1#view@user:mike'))).toBe(true);
    expect(engine.check(q('doc:d2#view@user:mike'))).toBe(true);
    expect(engine.check(q('doc:d1#view@user:john'))).toBe(false);
  });

  it('grants a wildcard to every user except those excluded', () => {
    const { engine } = engineOf(crmSchema, ['doc:pub#viewer@user:*', 'doc:pub#banned@user:bob']);
    expect(engine.check(q('doc:pub#view@user:anyone'))).toBe(true);
    expect(engine.check(q('doc:pub#view@user:bob'))).toBe(false);
    expect(engine.check(q('doc:pub#viewer@user:bob'))).toBe(true);
    expect(engine.check(q('doc:pub#viewer@user:*'))).toBe(true);
    // A wildcard stands for users, not for the members of some group.
    expect(engine.check(q('doc:pub#viewer@group:eng#member'))).toBe(false);
  });

  it('answers subject sets by containment', () => {
    const { engine } = engineOf(crmSchema, [
      'doc:plan#viewer@group:staff#member',
      'group:staff#member@group:eng#member',
    ]);
    expect(engine.check(q('doc:plan#view@group:staff#member'))).toBe(true);
    expect(engine.check(q('doc:plan#view@group:eng#member'))).toBe(true);
    expect(engine.check(q('doc:plan#view@group:sales#member'))).toBe(false);
    expect(engine.check(q('group:new#member@group:new#member'))).toBe(true);
  });

  it('treats never-seen objects as having no relationships', () => {
    const { engine } = engineOf(crmSchema, ['doc:pub#viewer@user:*']);
    expect(engine.check(q('doc:ghost#view@user:mike'))).toBe(false);
    expect(engine.check(q('doc:pub#view@user:ghost'))).toBe(true);
  });

  it('accepts a relation name where a permission is expected', () => {
    const { engine } = engineOf(crmSchema, ['doc:a#owner@user:mike']);
    expect(engine.check(q('doc:a#owner@user:mike'))).toBe(true);
    expect(engine.check(q('doc:a#edit@user:mike'))).toBe(true);
  });

  it('sees writes made to the graph after the engine was created', () => {
    const { engine, graph } = engineOf(crmSchema, []);
    expect(engine.check(q('doc:a#view@user:mike'))).toBe(false);
    graph.add(parseRelationship('group:eng#member@user:mike'));
    graph.add(parseRelationship('doc:a#viewer@group:eng#member'));
    expect(engine.check(q('doc:a#view@user:mike'))).toBe(true);
    graph.remove(parseRelationship('group:eng#member@user:mike'));
    expect(engine.check(q('doc:a#view@user:mike'))).toBe(false);
  });
});

describe('depth limit', () => {
  const chain = (n: number): string[] =>
    Array.from({ length: n }, (_, i) => `group:g${i + 1}#member@group:g${i}#member`).concat(
      'group:g0#member@user:mike',
    );

  it('answers a chain within the limit both by closure and by walking', () => {
    for (const closure of [true, false]) {
      const { engine, graph } = engineOf(crmSchema, chain(40));
      if (!closure) graph.relation('group', 'member')!.closure!.suspend();
      expect(engine.check(q('group:g40#member@user:mike'))).toBe(true);
      expect(engine.check(q('group:g40#member@user:john'))).toBe(false);
    }
  });

  it('raises DepthExceededError, not a stack overflow, on a 10k-long group chain', () => {
    const { engine, graph } = engineOf(crmSchema, chain(10_000));
    // 50M ancestor pairs: the closure gives up and the engine walks, within its depth limit.
    expect(graph.relation('group', 'member')!.closure!.enabled).toBe(false);
    expect(() => engine.check(q('group:g10000#member@user:mike'))).toThrow(DepthExceededError);
    expect(() => engine.explain(q('group:g10000#member@user:mike'))).toThrow(DepthExceededError);
    expect(engine.check(q('group:g30#member@user:mike'))).toBe(true);
  });

  it('raises DepthExceededError on a 10k-long arrow chain, also with a huge configured limit', () => {
    const rels = Array.from({ length: 10_000 }, (_, i) => `doc:d${i}#parent@doc:d${i + 1}`).concat(
      'doc:d10000#owner@user:mike',
    );
    const { engine, graph } = engineOf(crmSchema, rels);
    expect(() => engine.check(q('doc:d0#view@user:mike'))).toThrow(DepthExceededError);
    // With a limit the stack cannot honour, overflow is still reported as the depth error.
    const deep = createEngine(crmSchema, graph, { maxDepth: 10_000_000 });
    const outcome = (() => {
      try {
        return deep.check(q('doc:d0#view@user:mike'));
      } catch (err) {
        return err;
      }
    })();
    expect(outcome === true || outcome instanceof DepthExceededError).toBe(true);
  });
});

describe('request errors', () => {
  const { engine } = engineOf(crmSchema, []);
  const fieldOf = (fn: () => unknown): [string | undefined, string] => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      return [(err as InvalidArgumentError).field, (err as Error).message];
    }
    throw new Error('expected an InvalidArgumentError');
  };

  it('names the field and quotes the unknown name, with a suggestion', () => {
    expect(fieldOf(() => engine.check(q('dok:a#view@user:mike')))).toEqual([
      'resource',
      "resource type 'dok' is not defined in the schema (did you mean 'doc'?); use one of the schema's types",
    ]);
    const [field, message] = fieldOf(() => engine.check(q('doc:a#veiw@user:mike')));
    expect(field).toBe('permission');
    expect(message).toContain("type 'doc' has no permission or relation 'veiw' (did you mean 'view'?)");
    expect(fieldOf(() => engine.check(q('doc:a#view@usr:mike')))[0]).toBe('subject');
    expect(fieldOf(() => engine.check(q('doc:a#view@group:eng#owner')))).toEqual([
      'subject',
      "type 'group' has no permission or relation 'owner'; declared: member",
    ]);
  });

  it('reports a bad item of a batch in its slot only', () => {
    const results = engine.checkBatch([
      q('doc:a#view@user:mike'),
      q('doc:a#nope@user:mike'),
      q('doc:a#view@user:x'),
    ]);
    expect(results[0]).toEqual({ allowed: false, permissionship: 'denied' });
    expect(results[1]!.error).toBeInstanceOf(InvalidArgumentError);
    expect(results[1]!.error!.field).toBe('permission');
    expect(results[2]).toEqual({ allowed: false, permissionship: 'denied' });
  });

  it('refuses an engine for a graph of another schema', () => {
    const other = defineSchema({
      user: {},
      doc: { relations: { parent: 'doc' }, permissions: { x: or(arrow('parent', 'x'), ref('parent')) } },
    });
    expect(() => createEngine(other, new GraphIndex(crmSchema))).toThrow(/built for schema/);
  });
});

describe('empty subject relation', () => {
  it("treats '' as no relation, as proto3 clients send it", () => {
    const { engine } = engineOf(crmSchema, ['doc:a#owner@user:mike']);
    const subject = { type: 'user', id: 'mike', relation: '' };
    expect(engine.check({ resource: { type: 'doc', id: 'a' }, permission: 'view', subject })).toBe(true);
    expect(engine.lookupResources({ resourceType: 'doc', permission: 'view', subject }).resourceIds).toEqual([
      'a',
    ]);
    expect(
      engine.lookupSubjects({
        resource: { type: 'doc', id: 'a' },
        permission: 'view',
        subjectType: 'user',
        subjectRelation: '',
      }),
    ).toEqual({ subjectIds: ['mike'], wildcard: false, excludedIds: [] });
  });
});

describe('group closure budget', () => {
  it('switches the closure back on once a deep chain is taken apart, answering the same throughout', () => {
    const n = 2_000;
    const links = Array.from({ length: n }, (_, i) => `group:g${i + 1}#member@group:g${i}#member`);
    const { engine, graph } = engineOf(crmSchema, [...links, 'group:g0#member@user:mike']);
    const closure = graph.relation('group', 'member')!.closure!;
    // 2M ancestor pairs exceed the budget: the closure is off and checks walk the edges.
    expect(closure.enabled).toBe(false);
    expect(engine.check(q('group:g30#member@user:mike'))).toBe(true);
    for (let i = n - 1; i >= 40; i--) graph.remove(parseRelationship(links[i]!));
    expect(closure.enabled).toBe(true);
    expect(engine.check(q('group:g40#member@user:mike'))).toBe(true);
    expect(engine.check(q('group:g41#member@user:mike'))).toBe(false);
    graph.add(parseRelationship('group:g41#member@group:g40#member'));
    expect(engine.check(q('group:g41#member@user:mike'))).toBe(true);
  });
});
