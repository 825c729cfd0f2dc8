// Explain in three values: on a conditional path every node is allowed, denied or conditional,
// each set node agrees with its children under Kleene's logic, conditional relationships name
// their condition and missing parameters, and — a property over random schemas, relationships,
// contexts and contextual relationships — the root always equals the check's answer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { formatExplanation } from '../../server/src/engine/format-explanation.js';
import type { ExplainNode, Permissionship, RequestFacts } from '../../server/src/engine/types.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import type { SubjectRef } from '../../server/src/model/relationship.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compileFiles, yaml } from '../policy/compile-helpers.js';
import { DOC_PERMISSIONS, DOC_RELATIONS, ID_POOLS } from './arbitraries.js';
import { NOW, scenario3Arb } from './conditional-arbitraries.js';

function answerOf(node: ExplainNode): Permissionship {
  return node.conditional === true ? 'conditional' : node.result ? 'allowed' : 'denied';
}

/** Each operator node's value is its children's under Kleene's logic (cut short as evaluated). */
function assertConsistent(node: ExplainNode, what: string): void {
  if (node.conditional === true)
    expect(node.result, `${what}: a conditional node is not a grant`).toBe(false);
  // A step met again is shown once, without its subtree.
  if (node.children.length === 0) return;
  const values = node.children.map(answerOf);
  const v = answerOf(node);
  // `via.all(name)` is an arrow node whose children are all required (an `and`).
  const kind = node.kind === 'arrow' && node.label.includes('.all(') ? 'intersection' : node.kind;
  switch (kind) {
    case 'union':
    case 'relation':
    case 'arrow':
      expect(v, `${what}: ${node.kind} ${node.object}#${node.label}`).toBe(
        values.includes('allowed') ? 'allowed' : values.includes('conditional') ? 'conditional' : 'denied',
      );
      break;
    case 'intersection':
      expect(v, `${what}: and on ${node.object}`).toBe(
        values.includes('denied') ? 'denied' : values.includes('conditional') ? 'conditional' : 'allowed',
      );
      break;
    case 'permission':
      expect(v, `${what}: permission ${node.object}#${node.label}`).toBe(values[0]);
      break;
    default:
      break;
  }
  for (const c of node.children) assertConsistent(c, what);
}

const SUBJECTS: readonly SubjectRef[] = [
  { type: 'user', id: 'u0' },
  { type: 'user', id: 'unseen' },
  { type: 'user', id: '*' },
  { type: 'group', id: 'g0', relation: 'member' },
];

describe('the root of a three-valued explanation', () => {
  it('always equals the check answer with the same context (property)', () => {
    fc.assert(
      fc.property(scenario3Arb, ({ schema, relationships, contextual, context }) => {
        const engine = createEngine(schema, GraphIndex.build(schema, relationships, 1));
        const facts: RequestFacts = { now: NOW, context, contextualRelationships: contextual };
        for (const subject of SUBJECTS) {
          for (const permission of [...DOC_PERMISSIONS, ...DOC_RELATIONS]) {
            for (const id of [...ID_POOLS.doc!, 'unseen']) {
              const request = { resource: { type: 'doc', id }, permission, subject, ...facts };
              const decision = engine.decide(request);
              const e = engine.explain(request);
              const what = `doc:${id}#${permission}@${JSON.stringify(subject)}`;
              expect(e.permissionship, what).toBe(decision.permissionship);
              expect(answerOf(e.root), `${what}: root`).toBe(decision.permissionship);
              assertConsistent(e.root, what);
            }
          }
        }
      }),
      { numRuns: 120, interruptAfterTimeLimit: 8_000 },
    );
  });
});

describe('a conditional path', () => {
  const schema = compileFiles({
    'schema.yaml': yaml`
      kind: schema
      conditions:
        ip_allowlist:
          parameters:
            cidr: string
            ip: ipaddress
          expression: ip.in_cidr(cidr)
      types:
        user: {}
        group:
          relations:
            member: user or user with ip_allowlist
        doc:
          relations:
            viewer: user or group#member
            banned: user
          permissions:
            view: viewer but not banned
    `,
  }).schema;
  const graph = GraphIndex.build(
    schema,
    [
      'doc:1#viewer@group:eng#member',
      'group:eng#member@user:ann[ip_allowlist:{"cidr":"10.0.0.0/8"}]',
      'doc:1#viewer@user:bob',
      'doc:1#banned@user:bob',
    ].map((r) => parseRelationship(r)),
    1,
  );
  const engine = createEngine(schema, graph);
  const ann = {
    resource: { type: 'doc', id: '1' },
    permission: 'view',
    subject: { type: 'user', id: 'ann' },
  };

  it('marks every step on it conditional, with the condition and its missing parameters', () => {
    const text = formatExplanation(engine.explain(ann), 'doc:1#view@user:ann');
    expect(text).toBe(
      [
        'conditional (missing ip): doc:1#view@user:ann',
        '? doc:1#view (permission)',
        '  ? first but not second (but not)',
        '    ? doc:1#viewer (relation)',
        '      ? doc:1#viewer@group:eng#member',
        '        ? group:eng#member (relation)',
        '          ? group:eng#member@user:ann[ip_allowlist:{"cidr":"10.0.0.0/8"}] — condition ip_allowlist: missing ip',
        '    ✗ doc:1#banned (relation)',
      ].join('\n'),
    );
  });

  it('is allowed or denied along the same path once the context decides', () => {
    const inside = engine.explain({ ...ann, context: { ip: '10.1.2.3' } });
    expect(inside.permissionship).toBe('allowed');
    expect(formatExplanation(inside)).toContain(
      '✓ group:eng#member@user:ann[ip_allowlist:{"cidr":"10.0.0.0/8"}] — condition ip_allowlist: true',
    );
    const outside = engine.explain({ ...ann, context: { ip: '192.0.2.1' } });
    expect(outside.permissionship).toBe('denied');
    expect(formatExplanation(outside)).not.toContain('?');
  });

  it('keeps ✗ for steps that are denied whatever the context', () => {
    const bob = engine.explain({ ...ann, subject: { type: 'user', id: 'bob' } });
    expect(bob.permissionship).toBe('denied');
    expect(formatExplanation(bob).split('\n')[1]).toBe('✗ doc:1#view (permission)');
  });
});
