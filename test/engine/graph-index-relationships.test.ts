// GraphIndex.relationships(): the enumeration replicas re-seed an emptied store with returns
// exactly the relationships the index was built from (each once), and follows removals.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { formatRelationship, type Relationship } from '../../server/src/model/relationship.js';
import { scenarioArb } from './arbitraries.js';

function keys(rels: Iterable<Relationship>): string[] {
  return [...new Set([...rels].map(formatRelationship))].sort();
}

describe('GraphIndex.relationships', () => {
  it('enumerates exactly the relationships it was built from', () => {
    fc.assert(
      fc.property(scenarioArb, ({ schema, relationships }) => {
        const graph = GraphIndex.build(schema, relationships, 1);
        const listed = [...graph.relationships()];
        expect(listed.map(formatRelationship).sort()).toEqual(keys(relationships));
        expect(listed).toHaveLength(graph.relationshipCount);
      }),
      { numRuns: 200 },
    );
  });

  it('no longer lists removed relationships', () => {
    fc.assert(
      fc.property(scenarioArb, ({ schema, relationships }) => {
        const graph = GraphIndex.build(schema, relationships, 1);
        const removed = relationships.filter((_, i) => i % 2 === 0);
        for (const r of removed) graph.remove(r);
        const gone = new Set(removed.map(formatRelationship));
        expect(keys(graph.relationships())).toEqual(keys(relationships).filter((k) => !gone.has(k)));
      }),
      { numRuns: 100 },
    );
  });
});
