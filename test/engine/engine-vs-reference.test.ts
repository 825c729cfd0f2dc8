// Property tests: the optimised engine (interning, group closure, compiled plans, backward and
// forward lookups) must give exactly the naive reference evaluator's answers, on random schemas
// and data, after bulk builds and after random incremental add/remove sequences.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { evaluateReference } from '../../server/src/engine/reference.js';
import type { Engine } from '../../server/src/engine/types.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import type { Relationship, SubjectRef } from '../../server/src/model/relationship.js';
import { relationshipKey } from '../../server/src/model/relationship.js';
import type { Schema } from '../../server/src/schema/schema.js';
import { DOC_PERMISSIONS, DOC_RELATIONS, ID_POOLS, operationsArb, scenarioArb } from './arbitraries.js';

const SUBJECTS: readonly SubjectRef[] = [
  { type: 'user', id: 'u0' },
  { type: 'user', id: 'u1' },
  { type: 'user', id: 'u2' },
  { type: 'user', id: 'unseen' },
  { type: 'user', id: '*' },
  { type: 'group', id: 'g0', relation: 'member' },
  { type: 'group', id: 'g1', relation: 'any' },
  { type: 'team', id: 't0', relation: 'member' },
  { type: 'doc', id: 'd0', relation: 'p1' },
  { type: 'group', id: 'new', relation: 'member' },
];
const DOCS = [...ID_POOLS.doc!, 'unseen'];
const NAMES = [...DOC_PERMISSIONS, ...DOC_RELATIONS.filter((r) => r !== 'parent')];

function describeCase(relationships: readonly Relationship[]): string {
  return relationships.map(relationshipKey).join(', ');
}

/** Compares every check, lookup and explanation the engine gives with the reference's. */
function assertAgrees(schema: Schema, relationships: readonly Relationship[], engine: Engine): void {
  const reference = evaluateReference(schema, relationships);
  const data = describeCase(relationships);
  for (const subject of SUBJECTS) {
    for (const permission of NAMES) {
      for (const id of DOCS) {
        const request = { resource: { type: 'doc', id }, permission, subject };
        expect(
          engine.check(request),
          `check ${id}#${permission} for ${JSON.stringify(subject)} over ${data}`,
        ).toBe(reference.check(request));
      }
      const page = engine.lookupResources({ resourceType: 'doc', permission, subject });
      expect(
        page.resourceIds,
        `lookupResources doc#${permission} for ${JSON.stringify(subject)} over ${data}`,
      ).toEqual(reference.lookupResources('doc', permission, subject));
    }
  }
  for (const subject of SUBJECTS.slice(0, 6)) {
    for (const id of ['g0', 'g1', 'g2', 'new']) {
      for (const permission of ['member', 'any']) {
        const request = { resource: { type: 'group', id }, permission, subject };
        expect(
          engine.check(request),
          `check group:${id}#${permission} for ${JSON.stringify(subject)} over ${data}`,
        ).toBe(reference.check(request));
      }
    }
  }
  // Each lookupSubjects answer costs the reference one fixpoint per candidate subject: sample.
  for (const permission of [...DOC_PERMISSIONS, 'viewer']) {
    for (const id of ['d0', 'd1']) {
      const resource = { type: 'doc', id };
      for (const [subjectType, subjectRelation] of [
        ['user', undefined],
        ['group', 'member'],
        ['doc', 'p1'],
      ] as const) {
        expect(
          engine.lookupSubjects({ resource, permission, subjectType, subjectRelation }),
          `lookupSubjects doc:${id}#${permission} ${subjectType}${subjectRelation ? `#${subjectRelation}` : ''} over ${data}`,
        ).toEqual(reference.lookupSubjects(resource, permission, subjectType, subjectRelation));
      }
      const request = { resource, permission, subject: SUBJECTS[0]! };
      expect(engine.explain(request).allowed, `explain ${id}#${permission} over ${data}`).toBe(
        reference.check(request),
      );
    }
  }
}

// Each property stops early (passing) at its time limit so the suite stays fast on a loaded
// machine; on an idle one every run completes (about 1200 cases in all).
describe('engine agrees with the reference evaluator', () => {
  it('on random schemas and relationship sets (bulk build)', () => {
    fc.assert(
      fc.property(scenarioArb, ({ schema, relationships }) => {
        const graph = GraphIndex.build(schema, relationships, 1);
        assertAgrees(schema, relationships, createEngine(schema, graph));
      }),
      { numRuns: 500, interruptAfterTimeLimit: 6_000 },
    );
  });

  it('when group closures are switched off and nesting is walked edge by edge', () => {
    fc.assert(
      fc.property(scenarioArb, ({ schema, relationships }) => {
        const graph = GraphIndex.build(schema, relationships, 1);
        for (const rel of graph.relations()) rel.closure?.suspend();
        assertAgrees(schema, relationships, createEngine(schema, graph));
      }),
      { numRuns: 300, interruptAfterTimeLimit: 3_500 },
    );
  });

  it('after random sequences of adds and removes applied incrementally', () => {
    fc.assert(
      fc.property(operationsArb, ({ schema, ops }) => {
        const graph = new GraphIndex(schema);
        const engine = createEngine(schema, graph);
        const present = new Map<string, Relationship>();
        for (const [add, rel] of ops) {
          const key = relationshipKey(rel);
          const changed = add ? graph.add(rel) : graph.remove(rel);
          expect(changed).toBe(add ? !present.has(key) : present.has(key));
          if (add) present.set(key, rel);
          else present.delete(key);
          expect(graph.relationshipCount).toBe(present.size);
        }
        assertAgrees(schema, [...present.values()], engine);
      }),
      { numRuns: 400, interruptAfterTimeLimit: 3_500 },
    );
  });
});
