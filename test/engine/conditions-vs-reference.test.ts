// Property tests for three-valued answers: on random schemas whose relations may carry a
// condition, random relationship sets with conditions and expiries, random request contexts and
// contextual relationships, the engine gives the naive three-valued reference's answers
// (evaluateReference3) for checks, lookups and explain; a conditional answer's missing
// parameters are never empty and only name parameters some undecided relationship lacks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { evaluateReference3 } from '../../server/src/engine/reference.js';
import type { Decision, Engine, RequestFacts } from '../../server/src/engine/types.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import type { Relationship, SubjectRef } from '../../server/src/model/relationship.js';
import { formatRelationshipWithAttributes, relationshipKey } from '../../server/src/model/relationship.js';
import type { Schema } from '../../server/src/schema/schema.js';
import { allowedRelationships, DOC_PERMISSIONS, DOC_RELATIONS, ID_POOLS } from './arbitraries.js';
import { attribute, attributesArb, NOW, scenario3Arb } from './conditional-arbitraries.js';

const SUBJECTS: readonly SubjectRef[] = [
  { type: 'user', id: 'u0' },
  { type: 'user', id: 'u1' },
  { type: 'user', id: 'unseen' },
  { type: 'user', id: '*' },
  { type: 'group', id: 'g0', relation: 'member' },
  { type: 'doc', id: 'd0', relation: 'p1' },
];
const DOCS = [...ID_POOLS.doc!, 'unseen'];
const NAMES = [...DOC_PERMISSIONS, ...DOC_RELATIONS.filter((r) => r !== 'parent')];

function agreeing(
  engineAnswer: Decision,
  reference: Decision,
  missing: ReadonlySet<string>,
  what: string,
): void {
  expect(engineAnswer.permissionship, what).toBe(reference.permissionship);
  if (engineAnswer.permissionship === 'conditional') {
    expect(engineAnswer.missingContext?.length, `${what}: missing parameters named`).toBeGreaterThan(0);
    for (const name of engineAnswer.missingContext ?? [])
      expect(missing.has(name), `${what}: ${name}`).toBe(true);
  }
}

function assertAgrees3(
  schema: Schema,
  relationships: readonly Relationship[],
  facts: RequestFacts,
  engine: Engine,
): void {
  const reference = evaluateReference3(schema, relationships, facts);
  const data = `${relationships.map(formatRelationshipWithAttributes).join(', ')} | contextual ${(facts.contextualRelationships ?? []).map(formatRelationshipWithAttributes).join(', ')} | context ${JSON.stringify(facts.context)}`;
  for (const subject of SUBJECTS) {
    for (const permission of NAMES) {
      const expected = new Map<string, Decision>();
      for (const id of DOCS) {
        const request = { resource: { type: 'doc', id }, permission, subject, ...facts };
        const want = reference.decide(request);
        expected.set(id, want);
        const what = `check doc:${id}#${permission} for ${JSON.stringify(subject)} over ${data}`;
        agreeing(engine.decide(request), want, reference.missing, what);
        expect(engine.check(request), what).toBe(want.permissionship === 'allowed');
      }
      const page = engine.lookupResources({ resourceType: 'doc', permission, subject, ...facts });
      const what = `lookupResources doc#${permission} for ${JSON.stringify(subject)} over ${data}`;
      const known = DOCS.filter((id) => id !== 'unseen' || (facts.contextualRelationships ?? []).length > 0);
      expect(page.resourceIds, what).toEqual(
        known.filter((id) => expected.get(id)!.permissionship === 'allowed').sort(),
      );
      expect(
        (page.conditional ?? []).map((c) => c.id),
        what,
      ).toEqual(known.filter((id) => expected.get(id)!.permissionship === 'conditional').sort());
    }
  }
  // lookupSubjects: the answer it implies for each user must be the reference's.
  for (const permission of [...DOC_PERMISSIONS, 'viewer']) {
    for (const id of ['d0', 'd1']) {
      const resource = { type: 'doc', id };
      const r = engine.lookupSubjects({ resource, permission, subjectType: 'user', ...facts });
      for (const user of [...ID_POOLS.user!, 'unseen']) {
        const implied: Decision['permissionship'] = r.subjectIds.includes(user)
          ? 'allowed'
          : (r.conditional ?? []).some((c) => c.id === user)
            ? 'conditional'
            : r.excludedIds.includes(user)
              ? 'denied'
              : r.wildcard
                ? 'allowed'
                : (r.conditional ?? []).some((c) => c.id === '*')
                  ? 'conditional'
                  : 'denied';
        const want = reference.decide({
          resource,
          permission,
          subject: { type: 'user', id: user },
          ...facts,
        });
        expect(implied, `lookupSubjects doc:${id}#${permission} user:${user} over ${data}`).toBe(
          want.permissionship,
        );
      }
      const request = { resource, permission, subject: SUBJECTS[0]!, ...facts };
      expect(engine.explain(request).permissionship, `explain doc:${id}#${permission} over ${data}`).toBe(
        reference.decide(request).permissionship,
      );
    }
  }
}

describe('three-valued answers agree with the reference evaluator', () => {
  it('on random schemas, conditions, expiries, contexts and contextual relationships', () => {
    fc.assert(
      fc.property(scenario3Arb, ({ schema, relationships, contextual, context }) => {
        const graph = GraphIndex.build(schema, relationships, 1);
        const facts: RequestFacts = { now: NOW, context, contextualRelationships: contextual };
        assertAgrees3(schema, relationships, facts, createEngine(schema, graph));
      }),
      { numRuns: 200, interruptAfterTimeLimit: 8_000 },
    );
  });

  it('after attributes are touched and removed incrementally (one identity, one answer)', () => {
    fc.assert(
      fc.property(
        scenario3Arb,
        fc.array(fc.tuple(fc.boolean(), fc.nat(), attributesArb), { maxLength: 20 }),
        ({ schema, relationships, context }, ops) => {
          const graph = GraphIndex.build(schema, relationships, 1);
          const engine = createEngine(schema, graph);
          const present = new Map(relationships.map((r) => [relationshipKey(r), r]));
          const pool = allowedRelationships(schema);
          for (const [add, n, a] of ops) {
            const rel = attribute(pool[n % pool.length]!, a);
            if (add) {
              graph.add(rel);
              present.set(relationshipKey(rel), rel);
            } else {
              graph.remove(rel);
              present.delete(relationshipKey(rel));
            }
            expect(graph.relationshipCount).toBe(present.size);
          }
          assertAgrees3(schema, [...present.values()], { now: NOW, context }, engine);
        },
      ),
      { numRuns: 100, interruptAfterTimeLimit: 5_000 },
    );
  });
});
