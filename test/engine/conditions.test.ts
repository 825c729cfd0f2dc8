// Three-valued checks: conditions (allowed / denied / conditional with the missing parameters),
// expiry against the request time, contextual relationships, and how `or`, `and` and `but not`
// combine the three answers; lookups and explain report conditional answers as such.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import type { CheckRequest, Engine } from '../../server/src/engine/types.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compileFiles, yaml } from '../policy/compile-helpers.js';
import { q } from './fixtures.js';

const schema = compileFiles({
  'schema.yaml': yaml`
    kind: schema
    conditions:
      ip_allowlist:
        parameters:
          cidr: string
          ip: ipaddress
        expression: ip.in_cidr(cidr)
      tier_at_least:
        parameters:
          tier: int
          required: int
        expression: tier >= required
    types:
      user: {}
      group:
        relations:
          member: user or user with ip_allowlist or group#member
      doc:
        relations:
          viewer: user or user with ip_allowlist or group#member or user:* with tier_at_least
          banned: user or user with tier_at_least
          parent: doc or doc with ip_allowlist
          paid: user with tier_at_least
        permissions:
          view: viewer or parent->view
          read: viewer but not banned
          premium: viewer and paid
  `,
}).schema;

const NOW = Date.parse('2026-06-01T00:00:00Z');
const OFFICE = '{"cidr":"10.0.0.0/8"}';

function engineOf(relationships: readonly string[]): { engine: Engine; graph: GraphIndex } {
  const graph = GraphIndex.build(
    schema,
    relationships.map((r) => parseRelationship(r)),
    1,
  );
  return { engine: createEngine(schema, graph), graph };
}

function at(
  tuple: string,
  context?: Record<string, unknown>,
  extra: Partial<CheckRequest> = {},
): CheckRequest {
  return { ...q(tuple), context, now: NOW, ...extra };
}

describe('a condition decides a check', () => {
  const { engine } = engineOf([`doc:1#viewer@user:ann[ip_allowlist:${OFFICE}]`, 'doc:1#viewer@user:bob']);

  it('allowed when it holds, denied when it does not, conditional with the missing parameter', () => {
    expect(engine.decide(at('doc:1#view@user:ann', { ip: '10.1.2.3' }))).toEqual({
      permissionship: 'allowed',
    });
    expect(engine.decide(at('doc:1#view@user:ann', { ip: '192.168.0.1' }))).toEqual({
      permissionship: 'denied',
    });
    expect(engine.decide(at('doc:1#view@user:ann'))).toEqual({
      permissionship: 'conditional',
      missingContext: ['ip'],
    });
    expect(engine.check(at('doc:1#view@user:ann'))).toBe(false);
    expect(engine.check(at('doc:1#view@user:ann', { ip: '10.0.0.1' }))).toBe(true);
  });

  it('a relationship without a condition still answers without context', () => {
    expect(engine.decide(at('doc:1#view@user:bob'))).toEqual({ permissionship: 'allowed' });
    expect(engine.decide(at('doc:1#view@user:cat'))).toEqual({ permissionship: 'denied' });
  });

  it('refuses a context value of the wrong type', () => {
    expect(() => engine.decide(at('doc:1#view@user:ann', { ip: 'not-an-ip' }))).toThrow(
      /expected an IP address/,
    );
  });

  it('conditions on nested groups and on arrows are followed', () => {
    const { engine: e } = engineOf([
      'doc:2#viewer@group:eng#member',
      `group:eng#member@user:dan[ip_allowlist:${OFFICE}]`,
      `doc:3#parent@doc:2[ip_allowlist:{"cidr":"192.168.0.0/16"}]`,
    ]);
    expect(e.decide(at('doc:2#view@user:dan', { ip: '10.0.0.9' })).permissionship).toBe('allowed');
    expect(e.decide(at('doc:3#view@user:dan', { ip: '10.0.0.9' })).permissionship).toBe('denied');
    expect(e.decide(at('doc:3#view@user:dan'))).toEqual({
      permissionship: 'conditional',
      missingContext: ['ip'],
    });
  });

  it('a wildcard with a condition: every user, when it holds', () => {
    const { engine: e } = engineOf(['doc:4#viewer@user:*[tier_at_least:{"required":2}]']);
    expect(e.decide(at('doc:4#view@user:zed', { tier: 3 })).permissionship).toBe('allowed');
    expect(e.decide(at('doc:4#view@user:zed', { tier: 1 })).permissionship).toBe('denied');
    expect(e.decide(at('doc:4#view@user:zed')).missingContext).toEqual(['tier']);
  });
});

describe('the three answers under or, and, but not', () => {
  const { engine } = engineOf([
    'doc:1#viewer@user:ann',
    'doc:1#banned@user:ann[tier_at_least:{"required":5}]',
    'doc:1#paid@user:ann[tier_at_least:{"required":1}]',
    `doc:2#viewer@user:ann[ip_allowlist:${OFFICE}]`,
    'doc:2#banned@user:ann',
  ]);

  it('but not: a conditional subtraction makes the answer conditional; a sure one denies', () => {
    expect(engine.decide(at('doc:1#read@user:ann'))).toEqual({
      permissionship: 'conditional',
      missingContext: ['tier'],
    });
    expect(engine.decide(at('doc:1#read@user:ann', { tier: 9 })).permissionship).toBe('denied');
    expect(engine.decide(at('doc:1#read@user:ann', { tier: 0 })).permissionship).toBe('allowed');
    expect(engine.decide(at('doc:2#read@user:ann')).permissionship).toBe('denied');
  });

  it('and: false if any side is false, conditional if a side is', () => {
    expect(engine.decide(at('doc:1#premium@user:ann'))).toEqual({
      permissionship: 'conditional',
      missingContext: ['tier'],
    });
    expect(engine.decide(at('doc:1#premium@user:ann', { tier: 1 })).permissionship).toBe('allowed');
    expect(engine.decide(at('doc:2#premium@user:ann')).permissionship).toBe('denied');
  });

  it('or: true if any side is true, whatever the others lack', () => {
    const { engine: e } = engineOf([
      `doc:1#viewer@user:ann[ip_allowlist:${OFFICE}]`,
      'doc:1#viewer@group:g#member',
      'group:g#member@user:ann',
    ]);
    expect(e.decide(at('doc:1#view@user:ann'))).toEqual({ permissionship: 'allowed' });
  });
});

describe('expiring relationships', () => {
  const expires = '2026-06-01T00:00:00Z';
  const { engine } = engineOf([`doc:1#viewer@user:ann[expiration:${expires}]`]);

  it('grant before their expiry and not at or after it (the request time decides)', () => {
    expect(engine.check(at('doc:1#view@user:ann', undefined, { now: NOW - 1 }))).toBe(true);
    expect(engine.check(at('doc:1#view@user:ann', undefined, { now: NOW }))).toBe(false);
    expect(engine.decide(at('doc:1#view@user:ann', undefined, { now: NOW + 1000 }))).toEqual({
      permissionship: 'denied',
    });
  });

  it('a touch replaces the expiry and the condition: one identity, one answer', () => {
    const { engine: e, graph } = engineOf([`doc:1#viewer@user:ann[expiration:${expires}]`]);
    graph.apply({
      revision: 2,
      changes: [{ operation: 'insert', relationship: parseRelationship('doc:1#viewer@user:ann') }],
    });
    expect(e.check(at('doc:1#view@user:ann', undefined, { now: NOW + 1000 }))).toBe(true);
    expect(graph.relationshipCount).toBe(1);
    graph.apply({
      revision: 3,
      changes: [
        {
          operation: 'insert',
          relationship: parseRelationship(`doc:1#viewer@user:ann[ip_allowlist:${OFFICE}]`),
        },
      ],
    });
    expect(e.decide(at('doc:1#view@user:ann')).permissionship).toBe('conditional');
    expect([...graph.relationships()].length).toBe(1);
    graph.apply({
      revision: 4,
      changes: [{ operation: 'delete', relationship: parseRelationship('doc:1#viewer@user:ann') }],
    });
    expect(e.decide(at('doc:1#view@user:ann')).permissionship).toBe('denied');
    expect(graph.relationshipCount).toBe(0);
  });
});

describe('contextual relationships', () => {
  const { engine, graph } = engineOf(['doc:1#viewer@group:eng#member']);

  it('hold for that request only, also for objects the graph has never seen', () => {
    const contextualRelationships = [parseRelationship('group:eng#member@user:new')];
    expect(engine.check(at('doc:1#view@user:new', undefined, { contextualRelationships }))).toBe(true);
    expect(engine.check(at('doc:1#view@user:new'))).toBe(false);
    const unseen = [parseRelationship('doc:fresh#viewer@user:ann')];
    expect(engine.check(at('doc:fresh#view@user:ann', undefined, { contextualRelationships: unseen }))).toBe(
      true,
    );
    expect(graph.relationshipCount).toBe(1);
  });

  it('may carry conditions themselves', () => {
    const contextualRelationships = [parseRelationship(`group:eng#member@user:new[ip_allowlist:${OFFICE}]`)];
    expect(engine.decide(at('doc:1#view@user:new', undefined, { contextualRelationships }))).toEqual({
      permissionship: 'conditional',
      missingContext: ['ip'],
    });
  });
});

describe('lookups and explain report conditional answers', () => {
  const { engine } = engineOf([
    `doc:1#viewer@user:ann[ip_allowlist:${OFFICE}]`,
    'doc:2#viewer@user:ann',
    'doc:3#viewer@user:bob',
    `doc:4#viewer@user:bob[ip_allowlist:${OFFICE}]`,
  ]);

  it('lookupResources: allowed ids and conditional ids with their missing parameters, in one order', () => {
    const page = engine.lookupResources({
      resourceType: 'doc',
      permission: 'view',
      subject: { type: 'user', id: 'ann' },
      now: NOW,
    });
    expect(page).toEqual({ resourceIds: ['2'], conditional: [{ id: '1', missingContext: ['ip'] }] });
    const first = engine.lookupResources({
      resourceType: 'doc',
      permission: 'view',
      subject: { type: 'user', id: 'ann' },
      limit: 1,
      now: NOW,
    });
    expect(first.conditional).toEqual([{ id: '1', missingContext: ['ip'] }]);
    const second = engine.lookupResources({
      resourceType: 'doc',
      permission: 'view',
      subject: { type: 'user', id: 'ann' },
      limit: 1,
      cursor: first.nextCursor,
      now: NOW,
    });
    expect(second).toEqual({ resourceIds: ['2'] });
    const withIp = engine.lookupResources({
      resourceType: 'doc',
      permission: 'view',
      subject: { type: 'user', id: 'ann' },
      context: { ip: '10.9.9.9' },
      now: NOW,
    });
    expect(withIp).toEqual({ resourceIds: ['1', '2'] });
    const pages = [
      ...engine.lookupResourcePages({
        resourceType: 'doc',
        permission: 'view',
        subject: { type: 'user', id: 'ann' },
        limit: 1,
        now: NOW,
      }),
    ];
    expect(pages.map((p) => [p.resourceIds, p.conditional?.map((c) => c.id)])).toEqual([
      [[], ['1']],
      [['2'], undefined],
    ]);
  });

  it('lookupSubjects: conditional subjects listed apart', () => {
    expect(
      engine.lookupSubjects({
        resource: { type: 'doc', id: '4' },
        permission: 'view',
        subjectType: 'user',
        now: NOW,
      }),
    ).toEqual({
      subjectIds: [],
      wildcard: false,
      excludedIds: [],
      conditional: [{ id: 'bob', missingContext: ['ip'] }],
    });
  });

  it('explain names the condition that decided', () => {
    const e = engine.explain(at('doc:1#view@user:ann'));
    expect(e.permissionship).toBe('conditional');
    expect(e.missingContext).toEqual(['ip']);
    const details = JSON.stringify(e.root);
    expect(details).toContain('condition ip_allowlist: missing ip');
    const yes = engine.explain(at('doc:1#view@user:ann', { ip: '10.0.0.1' }));
    expect(yes.allowed).toBe(true);
    expect(JSON.stringify(yes.root)).toContain('condition ip_allowlist: true');
  });
});
