// The compiled graph snapshot: a decoded graph answers exactly as one built from the same
// relationships (bulk or incremental), keeps working incrementally, and any corrupted, truncated
// or foreign snapshot is refused with SnapshotCorruptError instead of being served.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { SnapshotCorruptError } from '../../server/src/errors.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import {
  decodeGraphSnapshot,
  encodeGraphSnapshot,
  readGraphSnapshotHeader,
} from '../../server/src/graph/snapshot-codec.js';
import type { Relationship, SubjectRef } from '../../server/src/model/relationship.js';
import type { Schema } from '../../server/src/schema/schema.js';
import { DOC_PERMISSIONS, DOC_RELATIONS, ID_POOLS, operationsArb, scenarioArb } from './arbitraries.js';
import { defineSchema } from './schema-builder.js';

const SUBJECTS: readonly SubjectRef[] = [
  { type: 'user', id: 'u0' },
  { type: 'user', id: 'u1' },
  { type: 'user', id: 'u3' },
  { type: 'user', id: 'unseen' },
  { type: 'user', id: '*' },
  { type: 'group', id: 'g0', relation: 'member' },
  { type: 'group', id: 'g2', relation: 'member' },
  { type: 'team', id: 't0', relation: 'member' },
  { type: 'doc', id: 'd0', relation: 'p1' },
];
const DOCS = [...ID_POOLS.doc!, 'unseen'];
const NAMES = [...DOC_PERMISSIONS, ...DOC_RELATIONS.filter((r) => r !== 'parent')];

/** Every answer the engine gives on `graph`, as one comparable list. */
function answers(schema: Schema, graph: GraphIndex): unknown[] {
  const engine = createEngine(schema, graph);
  const out: unknown[] = [graph.relationshipCount, graph.revision];
  for (const subject of SUBJECTS) {
    for (const permission of NAMES) {
      for (const id of DOCS) out.push(engine.check({ resource: { type: 'doc', id }, permission, subject }));
      out.push(engine.lookupResources({ resourceType: 'doc', permission, subject }).resourceIds);
    }
    for (const id of [...ID_POOLS.group!, 'new']) {
      for (const permission of ['member', 'any']) {
        out.push(engine.check({ resource: { type: 'group', id }, permission, subject }));
      }
    }
  }
  for (const permission of [...DOC_PERMISSIONS, 'viewer']) {
    for (const id of ['d0', 'd1']) {
      for (const [subjectType, subjectRelation] of [
        ['user', undefined],
        ['group', 'member'],
      ] as const) {
        const page = engine.lookupSubjects({
          resource: { type: 'doc', id },
          permission,
          subjectType,
          subjectRelation,
        });
        out.push(page);
      }
    }
  }
  return out;
}

function roundTrip(schema: Schema, graph: GraphIndex, chunkBytes = 1024): GraphIndex {
  return decodeGraphSnapshot(schema, encodeGraphSnapshot(graph, schema.hash, { chunkBytes }));
}

/** The chunks as consecutive views of one buffer of their own, the way GraphSnapshotCache loads them. */
function inOneBuffer(chunks: readonly Uint8Array[]): Uint8Array[] {
  const whole = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  const views: Uint8Array[] = [];
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    views.push(whole.subarray(at, at + c.byteLength));
    at += c.byteLength;
  }
  return views;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}

describe('graph snapshot round trip', () => {
  it('a decoded graph answers like the graph built from the same relationships', () => {
    fc.assert(
      fc.property(scenarioArb, ({ schema, relationships }) => {
        const built = GraphIndex.build(schema, relationships, 7);
        const decoded = roundTrip(schema, built);
        expect(answers(schema, decoded)).toEqual(answers(schema, built));
        // Equal graphs encode to equal bytes: nothing was lost or reordered.
        expect(concat(encodeGraphSnapshot(decoded, schema.hash))).toEqual(
          concat(encodeGraphSnapshot(built, schema.hash)),
        );
      }),
      { numRuns: 300, interruptAfterTimeLimit: 5_000 },
    );
  });

  it('a graph mutated incrementally decodes to its answers, and keeps applying changes like the original', () => {
    fc.assert(
      fc.property(operationsArb, fc.nat(), ({ schema, ops }, cut) => {
        const split = ops.length === 0 ? 0 : cut % (ops.length + 1);
        const live = new GraphIndex(schema);
        for (const [add, rel] of ops.slice(0, split)) add ? live.add(rel) : live.remove(rel);
        // Decoded in place: the graph's tables and ids are the snapshot's own bytes from here on.
        const chunks = inOneBuffer(encodeGraphSnapshot(live, schema.hash, { chunkBytes: 1024 }));
        const decoded = decodeGraphSnapshot(schema, chunks, { adopt: true });
        expect(decoded.interner('doc')!.table.buffer).toBe(chunks[0]!.buffer);
        const present = new Map<string, Relationship>();
        for (const [add, rel] of ops.slice(0, split)) {
          const key = JSON.stringify(rel);
          if (add) present.set(key, rel);
          else present.delete(key);
        }
        expect(answers(schema, decoded)).toEqual(
          answers(schema, GraphIndex.build(schema, present.values(), 0)),
        );
        // The rest of the operations, on the original and on the decoded graph alike.
        for (const [add, rel] of ops.slice(split)) {
          expect(add ? decoded.add(rel) : decoded.remove(rel)).toBe(add ? live.add(rel) : live.remove(rel));
        }
        expect(answers(schema, decoded)).toEqual(answers(schema, live));
        // And it writes its ids (packed ones, then those added since) back as the original does.
        const again = decodeGraphSnapshot(schema, encodeGraphSnapshot(decoded, schema.hash));
        expect(answers(schema, again)).toEqual(answers(schema, live));
        for (const type of schema.types.keys()) {
          expect(Buffer.from(decoded.interner(type)!.joinedIds())).toEqual(
            Buffer.from(live.interner(type)!.joinedIds()),
          );
        }
      }),
      { numRuns: 300, interruptAfterTimeLimit: 5_000 },
    );
  });

  it('keeps a switched-off group closure switched off', () => {
    fc.assert(
      fc.property(scenarioArb, ({ schema, relationships }) => {
        const built = GraphIndex.build(schema, relationships, 1);
        for (const rel of built.relations()) rel.closure?.suspend();
        const decoded = roundTrip(schema, built);
        for (const rel of decoded.relations()) if (rel.closure) expect(rel.closure.enabled).toBe(false);
        expect(answers(schema, decoded)).toEqual(answers(schema, built));
      }),
      { numRuns: 100, interruptAfterTimeLimit: 3_000 },
    );
  });
});

/** A graph big enough to span several 1 KiB chunks, with nested groups. */
const bigSchema = defineSchema({
  user: {},
  group: { relations: { member: 'user | group#member' } },
  doc: { relations: { viewer: 'user | group#member | user:*' } },
});
function bigGraph(): GraphIndex {
  const rels: Relationship[] = [];
  for (let i = 0; i < 600; i++) {
    rels.push({
      resource: { type: 'doc', id: `d${i}` },
      relation: 'viewer',
      subject: { type: 'user', id: `u${i % 97}` },
    });
    rels.push({
      resource: { type: 'doc', id: `d${i}` },
      relation: 'viewer',
      subject: { type: 'group', id: `g${i % 13}`, relation: 'member' },
    });
  }
  for (let g = 1; g < 13; g++) {
    rels.push({
      resource: { type: 'group', id: `g${g}` },
      relation: 'member',
      subject: { type: 'group', id: `g${g - 1}`, relation: 'member' },
    });
    rels.push({
      resource: { type: 'group', id: `g${g}` },
      relation: 'member',
      subject: { type: 'user', id: `member-${g}` },
    });
  }
  rels.push({
    resource: { type: 'doc', id: 'public' },
    relation: 'viewer',
    subject: { type: 'user', id: '*' },
  });
  return GraphIndex.build(bigSchema, rels, 42);
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SnapshotCorruptError);
    return (err as SnapshotCorruptError).reason;
  }
  throw new Error('decode accepted a bad snapshot');
}

describe('graph snapshot validation', () => {
  const graph = bigGraph();
  const chunks = encodeGraphSnapshot(graph, bigSchema.hash, { chunkBytes: 1024 });

  it('cuts the snapshot into chunks of at most chunkBytes, with a readable header', () => {
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks.slice(0, -1)) expect(c.length).toBe(1024);
    expect(chunks.at(-1)!.length).toBeLessThanOrEqual(1024);
    const header = readGraphSnapshotHeader(chunks[0]!);
    expect(header).toMatchObject({
      formatVersion: 2,
      schemaHash: bigSchema.hash,
      revision: 42,
      relationshipCount: graph.relationshipCount,
      chunkCount: chunks.length,
    });
    const decoded = decodeGraphSnapshot(bigSchema, chunks);
    const a = createEngine(bigSchema, graph);
    const b = createEngine(bigSchema, decoded);
    for (const subject of [
      { type: 'user', id: 'u5' },
      { type: 'user', id: 'member-3' },
      { type: 'user', id: 'someone' },
    ]) {
      const q = { resourceType: 'doc', permission: 'viewer', subject };
      expect(b.lookupResources(q).resourceIds).toEqual(a.lookupResources(q).resourceIds);
    }
  });

  it('rejects any single altered byte', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), (c, offset, xor) => {
        const altered = chunks.map((x) => x.slice());
        const chunk = altered[c % altered.length]!;
        const at = offset % chunk.length;
        chunk[at] = chunk[at]! ^ xor;
        expect(['checksum', 'magic', 'truncated', 'version', 'schema', 'malformed']).toContain(
          reasonOf(() => decodeGraphSnapshot(bigSchema, altered)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a missing, short, extended or reordered chunk', () => {
    expect(reasonOf(() => decodeGraphSnapshot(bigSchema, chunks.slice(0, -1)))).toBe('truncated');
    expect(reasonOf(() => decodeGraphSnapshot(bigSchema, []))).toBe('truncated');
    const short = [...chunks];
    short[2] = short[2]!.subarray(0, 1000);
    expect(reasonOf(() => decodeGraphSnapshot(bigSchema, short))).toBe('truncated');
    const long = [...chunks.slice(0, -1), concat([chunks.at(-1)!, new Uint8Array([0])])];
    expect(reasonOf(() => decodeGraphSnapshot(bigSchema, long))).toBe('truncated');
    const swapped = [...chunks];
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    expect(reasonOf(() => decodeGraphSnapshot(bigSchema, swapped))).toBe('checksum');
    expect(reasonOf(() => decodeGraphSnapshot(bigSchema, [chunks[0]!.subarray(0, 20)]))).toBe('truncated');
  });

  it('rejects a snapshot made for another schema, or that is not a snapshot', () => {
    const other = defineSchema({ user: {}, doc: { relations: { viewer: 'user' } } });
    expect(reasonOf(() => decodeGraphSnapshot(other, chunks))).toBe('schema');
    expect(reasonOf(() => decodeGraphSnapshot(bigSchema, [new Uint8Array(2048)]))).toBe('magic');
  });

  it('refuses chunk sizes too small to hold the header', () => {
    expect(() => encodeGraphSnapshot(graph, bigSchema.hash, { chunkBytes: 100 })).toThrow(RangeError);
  });
});
