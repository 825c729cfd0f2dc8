// The Gatehouse engine in-process over a dataset: compile its schema files, index its
// relationships, and answer questions with Engine.check — the same code the server runs.
import { createEngine, type Engine } from '../../server/src/engine/index.js';
import { GraphIndex } from '../../server/src/graph/index.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compilePolicySet } from '../../server/src/policy/compile-policy-set.js';
import type { Schema } from '../../server/src/schema/schema.js';
import type { Dataset } from '../datasets/dataset.js';
import type { Question } from '../harness/types.js';
import type { InProcessChecker } from '../peers/in-process/checker.js';

export function compileDatasetSchema(dataset: Dataset): Schema {
  return compilePolicySet([...dataset.schemaFiles].map(([path, content]) => ({ path, content }))).schema;
}

export function buildEngine(dataset: Dataset, schema: Schema = compileDatasetSchema(dataset)): Engine {
  function* relationships(): Iterable<ReturnType<typeof parseRelationship>> {
    for (const r of dataset.relationships()) yield parseRelationship(r);
  }
  return createEngine(schema, GraphIndex.build(schema, relationships(), 0));
}

export function gatehouseChecker(engine: Engine): InProcessChecker {
  return {
    system: 'Gatehouse',
    version: '',
    note: 'resolves nested groups itself',
    check: (q: Question) =>
      engine.check({
        resource: { type: q.resourceType, id: q.resourceId },
        permission: q.permission,
        subject: { type: q.subjectType, id: q.subjectId, relation: q.subjectRelation },
      }),
  };
}
