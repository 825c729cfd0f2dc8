// The compiled graph snapshot carries the relationships that have a condition or an expiry: the
// adjacency tables hold identities only, so these travel as full relationship strings and the
// decoder hands them to GraphIndex.add (where the conditions overlay keeps them).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SnapshotCorruptError } from '../../server/src/errors.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { decodeGraphSnapshot, encodeGraphSnapshot } from '../../server/src/graph/snapshot-codec.js';
import {
  formatRelationshipWithAttributes,
  parseRelationship,
  type Relationship,
} from '../../server/src/model/relationship.js';
import { defineSchema } from './schema-builder.js';

const schema = defineSchema({
  user: {},
  group: { relations: { member: 'user | group#member' } },
  doc: { relations: { viewer: 'user | group#member' } },
});

const PLAIN = ['doc:a#viewer@user:x', 'group:g#member@user:y'];
const ATTRIBUTED = [
  'doc:b#viewer@user:x[on_weekdays:{"tz":"UTC\\nline","n":[1,2]}]',
  'doc:c#viewer@group:g#member[expiration:2026-12-31T00:00:00.000Z]',
];

/** A graph whose relationships() reports attributes, as one with the conditions overlay does. */
function graphWithAttributes(): GraphIndex {
  const all = [...PLAIN, ...ATTRIBUTED].map((s) => parseRelationship(s));
  const graph = GraphIndex.build(schema, all, 7);
  const byKey = new Map(
    all.map((r) => [
      formatRelationshipWithAttributes({ ...r, condition: undefined, expiresAt: undefined }),
      r,
    ]),
  );
  vi.spyOn(graph, 'relationships').mockImplementation(function* (): Generator<Relationship> {
    for (const r of GraphIndex.prototype.relationships.call(graph)) {
      yield byKey.get(formatRelationshipWithAttributes(r)) ?? r;
    }
  });
  return graph;
}

describe('graph snapshot: relationships with a condition or an expiry', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('round-trips them through the snapshot into GraphIndex.add, condition context and expiry intact', () => {
    const chunks = encodeGraphSnapshot(graphWithAttributes(), schema.hash, { chunkBytes: 1024 });
    const added: Relationship[] = [];
    const add = GraphIndex.prototype.add;
    vi.spyOn(GraphIndex.prototype, 'add').mockImplementation(function (this: GraphIndex, r: Relationship) {
      added.push(r);
      return add.call(this, r);
    });
    const decoded = decodeGraphSnapshot(schema, chunks);
    expect(added.map(formatRelationshipWithAttributes)).toEqual(ATTRIBUTED);
    expect(added[0]?.condition).toEqual({ name: 'on_weekdays', context: { tz: 'UTC\nline', n: [1, 2] } });
    expect(added[1]?.expiresAt).toBe(Date.parse('2026-12-31T00:00:00.000Z'));
    expect(decoded.relationshipCount).toBe(4);
    expect(decoded.revision).toBe(7);
  });

  it('a graph without any writes an empty section and decodes with no extra add', () => {
    const graph = GraphIndex.build(
      schema,
      PLAIN.map((s) => parseRelationship(s)),
      3,
    );
    const chunks = encodeGraphSnapshot(graph, schema.hash);
    const add = vi.spyOn(GraphIndex.prototype, 'add');
    const decoded = decodeGraphSnapshot(schema, chunks);
    expect(add).not.toHaveBeenCalled();
    expect([...decoded.relationships()].map(formatRelationshipWithAttributes).sort()).toEqual(
      [...PLAIN].sort(),
    );
  });

  it('refuses a snapshot whose attributed relationships do not add up to its header count', () => {
    const chunks = encodeGraphSnapshot(graphWithAttributes(), schema.hash);
    // A decoder whose add reports every attributed relationship as new counts too many.
    vi.spyOn(GraphIndex.prototype, 'add').mockReturnValue(true);
    vi.spyOn(GraphIndex.prototype, 'relationshipCount', 'get').mockReturnValue(6);
    expect(() => decodeGraphSnapshot(schema, chunks)).toThrow(SnapshotCorruptError);
  });
});
