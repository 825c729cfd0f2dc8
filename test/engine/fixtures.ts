// Shared fixtures for engine unit tests: a small team-CRM-like schema and helpers to build an
// engine from relationship strings.
import { createEngine } from '../../server/src/engine/create-engine.js';
import type { CheckRequest, Engine, EngineOptions } from '../../server/src/engine/types.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { parseCheckTuple, parseRelationship } from '../../server/src/model/relationship.js';
import type { Schema } from '../../server/src/schema/schema.js';
import { and, arrow, butNot, defineSchema, or, ref } from './schema-builder.js';

export const crmSchema: Schema = defineSchema({
  user: {},
  org: { relations: { admin: 'user' } },
  group: { relations: { member: 'user | group#member' } },
  doc: {
    relations: { org: 'org', owner: 'user', viewer: 'user:* | group#member', banned: 'user', parent: 'doc' },
    permissions: {
      view: butNot(
        or(ref('owner'), ref('viewer'), arrow('org', 'admin'), arrow('parent', 'view')),
        ref('banned'),
      ),
      edit: and(ref('view'), ref('owner')),
    },
  },
});

export function graphOf(schema: Schema, relationships: readonly string[]): GraphIndex {
  return GraphIndex.build(
    schema,
    relationships.map((r) => parseRelationship(r)),
    1,
  );
}

export function engineOf(
  schema: Schema,
  relationships: readonly string[],
  options?: Partial<EngineOptions>,
): { engine: Engine; graph: GraphIndex } {
  const graph = graphOf(schema, relationships);
  return { engine: createEngine(schema, graph, options), graph };
}

/** `doc:1#view@user:mike` as a CheckRequest. */
export function q(tuple: string): CheckRequest {
  return parseCheckTuple(tuple);
}
