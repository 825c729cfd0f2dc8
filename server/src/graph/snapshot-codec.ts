// The compiled graph snapshot format: a GraphIndex (interned ids, adjacency tables, group
// closures) as versioned, checksummed binary chunks that decode without rebuilding anything.
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import { SnapshotCorruptError } from '../errors.js';
import { PackedIds } from '../model/packed-ids.js';
import { formatRelationshipWithAttributes, hasAttributes, parseRelationship } from '../model/relationship.js';
import type { Schema } from '../schema/schema.js';
import type { Revision } from '../store/store.js';
import type { AdjacencyTable } from './adjacency.js';
import { GraphIndex } from './graph-index.js';

/**
 * Layout (all integers little-endian). The byte stream is the header then the body, cut into
 * chunks of `chunkBytes` (the last one shorter); the header always fits in the first chunk.
 *
 * Header: magic `GHGS`, u16 format version, u16 header length, u64 revision, u64 relationship
 * count, u64 body length, u32 chunk count, u32 CRC-32 of the body, u16 schema hash length and
 * the hash (UTF-8), zero padding to 4 bytes, u32 CRC-32 of the header bytes before it.
 *
 * Body, every section padded to 4 bytes:
 * - per schema type, in schema order: u32 name length, name, u32 id count, u32 byte length,
 *   the ids joined by '\n' (object ids never contain one) — numbered 0, 1, … in that order —
 *   and u32 words, the Int32 slot table of the type's IdInterner (so no id is hashed again);
 * - u32 table count, then per adjacency table (in the order the index's edge sets first use
 *   them): u32 columns, u32 slot words, the Int32 row slots, u32 pool words, the Int32 pool
 *   compacted (AdjacencyTable.packed) — both taken by the decoded table as they are;
 * - u32 edge set count, then per edge set: u32 forward edges, u32 reverse edges;
 * - u32 closure count, then per self-nesting relation: u32 enabled, u32 edges when last
 *   disabled, u32 word count, Int32 words [group, n, n ancestors]…;
 * - u32 count, then the relationships that carry a condition or an expiry as full relationship
 *   strings (formatRelationshipWithAttributes, joined by '\n'; JSON escapes any newline), which
 *   the decoder adds through GraphIndex.add: the tables above hold identities only.
 *
 * Version 2 added the last section; version 1 snapshots are refused (the replica rebuilds).
 */
export const GRAPH_SNAPSHOT_FORMAT_VERSION = 2;
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1 << 20;
/** Smallest chunk accepted: the header must fit in the first one. */
export const MIN_SNAPSHOT_CHUNK_BYTES = 1024;

const MAGIC = 0x53474847; // 'GHGS' read as a little-endian u32
const FIXED_HEADER = 42;
const MAX_SCHEMA_HASH = 255;

/** What the header of a snapshot says, readable without decoding the body. */
export interface GraphSnapshotHeader {
  readonly formatVersion: number;
  readonly schemaHash: string;
  readonly revision: Revision;
  readonly relationshipCount: number;
  readonly bodyBytes: number;
  readonly chunkCount: number;
  readonly headerBytes: number;
}

export interface EncodeGraphSnapshotOptions {
  /** Largest chunk, in bytes (default 1 MiB, at least 1 KiB). */
  readonly chunkBytes?: number | undefined;
}

/** Appends the body's pieces without copying large arrays twice. */
class BodyWriter {
  readonly parts: Uint8Array[] = [];
  length = 0;

  u32(...values: number[]): void {
    const words = new Uint32Array(values.length);
    for (let i = 0; i < values.length; i++) words[i] = values[i]!;
    this.push(new Uint8Array(words.buffer));
  }

  int32s(words: Int32Array): void {
    this.u32(words.length);
    this.push(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
  }

  bytes(data: Uint8Array): void {
    this.u32(data.length);
    this.push(data);
    const pad = (4 - (data.length % 4)) % 4;
    if (pad > 0) this.push(new Uint8Array(pad));
  }

  private push(part: Uint8Array): void {
    if (part.length === 0) return;
    this.parts.push(part);
    this.length += part.length;
  }
}

/**
 * Reads the body out of one contiguous, 4-byte aligned copy of the snapshot, with a bounds check
 * on every step: a malformed body throws, never misreads. Word arrays are views of those bytes,
 * not copies: the decoded graph's tables live in the snapshot's own buffer.
 */
class BodyReader {
  private at: number;
  private readonly end: number;

  constructor(
    private readonly bytes: Uint8Array,
    headerBytes: number,
    bodyBytes: number,
  ) {
    this.at = headerBytes;
    this.end = headerBytes + bodyBytes;
  }

  u32(): number {
    this.need(4);
    const b = this.bytes;
    const at = this.at;
    this.at += 4;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }

  /** The next Int32 words, as a view of the snapshot's bytes (aligned: every section is padded to 4). */
  int32s(): Int32Array<ArrayBuffer> {
    const n = this.u32();
    this.need(4 * n);
    const offset = this.bytes.byteOffset + this.at;
    if (offset % 4 !== 0) malformed('a word section is not aligned');
    this.at += 4 * n;
    return new Int32Array(this.bytes.buffer as ArrayBuffer, offset, n);
  }

  /** The next length-prefixed bytes (a view), skipping their padding. */
  bytesView(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const view = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    const pad = (4 - (n % 4)) % 4;
    this.need(pad);
    this.at += pad;
    return view;
  }

  text(): string {
    const view = this.bytesView();
    return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('utf8');
  }

  finish(): void {
    if (this.at !== this.end) malformed(`${this.end - this.at} bytes left over after the body`);
  }

  private need(n: number): void {
    if (n < 0 || n > this.end - this.at) malformed('the body ends inside a section');
  }
}

function malformed(message: string): never {
  throw new SnapshotCorruptError('malformed', `graph snapshot is malformed: ${message}`);
}

function assertLittleEndian(): void {
  // Typed arrays are written as the machine lays them out; every supported platform is little-endian.
  if (endianness() !== 'LE') throw new Error('graph snapshots need a little-endian machine');
}

/** The adjacency tables behind `graph`'s edge sets, in the order they are first used. */
function tablesOf(graph: GraphIndex): AdjacencyTable[] {
  const seen = new Set<AdjacencyTable>();
  for (const rel of graph.relations()) {
    for (const edges of rel.edgeSets) {
      seen.add(edges.forward.storage);
      seen.add(edges.reverse.storage);
    }
  }
  return [...seen];
}

/**
 * Encodes `graph` as snapshot chunks of at most `chunkBytes` each. `schemaHash` names the schema
 * the graph was built for (`schema.hash`); a decode against any other schema is refused.
 */
export function encodeGraphSnapshot(
  graph: GraphIndex,
  schemaHash: string,
  options: EncodeGraphSnapshotOptions = {},
): Uint8Array[] {
  assertLittleEndian();
  const chunkBytes = options.chunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_SNAPSHOT_CHUNK_BYTES) {
    throw new RangeError(`chunkBytes ${chunkBytes} must be an integer >= ${MIN_SNAPSHOT_CHUNK_BYTES}`);
  }
  const hash = Buffer.from(schemaHash, 'utf8');
  if (hash.length === 0 || hash.length > MAX_SCHEMA_HASH) {
    throw new RangeError(`schema hash must be 1..${MAX_SCHEMA_HASH} bytes`);
  }
  const body = new BodyWriter();
  for (const type of graph.schema.types.values()) {
    const interner = graph.interner(type.name)!;
    body.bytes(Buffer.from(type.name, 'utf8'));
    body.u32(interner.size);
    body.bytes(interner.joinedIds());
    body.int32s(interner.table);
  }
  const tables = tablesOf(graph);
  body.u32(tables.length);
  for (const table of tables) {
    const { slots, pool } = table.packed();
    body.u32(table.columns);
    body.int32s(slots);
    body.int32s(pool);
  }
  const edgeSets = [...graph.relations()].flatMap((r) => r.edgeSets);
  body.u32(edgeSets.length);
  for (const edges of edgeSets) body.u32(edges.forward.size, edges.reverse.size);
  const closures = [...graph.relations()].flatMap((r) => (r.closure === undefined ? [] : [r.closure]));
  body.u32(closures.length);
  for (const closure of closures) {
    body.u32(closure.enabled ? 1 : 0, closure.edgesWhenOff);
    body.int32s(closure.exportWords());
  }
  const attributed: string[] = [];
  for (const r of graph.relationships()) {
    if (hasAttributes(r)) attributed.push(formatRelationshipWithAttributes(r));
  }
  body.u32(attributed.length);
  body.bytes(Buffer.from(attributed.join('\n'), 'utf8'));

  let bodyCrc = 0;
  for (const part of body.parts) bodyCrc = crc32(part, bodyCrc);
  const hashPadded = FIXED_HEADER + hash.length + ((4 - ((FIXED_HEADER + hash.length) % 4)) % 4);
  const headerBytes = hashPadded + 4;
  const total = headerBytes + body.length;
  const chunkCount = Math.ceil(total / chunkBytes);
  const header = Buffer.alloc(headerBytes);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt16LE(GRAPH_SNAPSHOT_FORMAT_VERSION, 4);
  header.writeUInt16LE(headerBytes, 6);
  header.writeBigUInt64LE(BigInt(graph.revision), 8);
  header.writeBigUInt64LE(BigInt(graph.relationshipCount), 16);
  header.writeBigUInt64LE(BigInt(body.length), 24);
  header.writeUInt32LE(chunkCount, 32);
  header.writeUInt32LE(bodyCrc, 36);
  header.writeUInt16LE(hash.length, 40);
  hash.copy(header, FIXED_HEADER);
  header.writeUInt32LE(crc32(header.subarray(0, hashPadded)), hashPadded);

  // Copy header and body parts into chunks of exactly chunkBytes (the last one shorter).
  const chunks: Uint8Array[] = [];
  let chunk = new Uint8Array(Math.min(chunkBytes, total));
  let filled = 0;
  let left = total;
  for (const part of [header, ...body.parts]) {
    let from = 0;
    while (from < part.length) {
      const n = Math.min(part.length - from, chunk.length - filled);
      chunk.set(part.subarray(from, from + n), filled);
      from += n;
      filled += n;
      if (filled === chunk.length) {
        chunks.push(chunk);
        left -= filled;
        filled = 0;
        chunk = new Uint8Array(Math.min(chunkBytes, left));
      }
    }
  }
  return chunks;
}

/** Reads and checks the header at the start of the first chunk; throws SnapshotCorruptError. */
export function readGraphSnapshotHeader(first: Uint8Array): GraphSnapshotHeader {
  const b = Buffer.from(first.buffer, first.byteOffset, first.byteLength);
  if (b.length < FIXED_HEADER + 4) {
    throw new SnapshotCorruptError('truncated', 'graph snapshot is truncated: the header is incomplete');
  }
  if (b.readUInt32LE(0) !== MAGIC) {
    throw new SnapshotCorruptError('magic', 'not a graph snapshot: the magic number is wrong');
  }
  const formatVersion = b.readUInt16LE(4);
  const headerBytes = b.readUInt16LE(6);
  if (headerBytes < FIXED_HEADER + 4 || headerBytes > b.length) {
    throw new SnapshotCorruptError('truncated', 'graph snapshot is truncated: the header is incomplete');
  }
  if (crc32(b.subarray(0, headerBytes - 4)) !== b.readUInt32LE(headerBytes - 4)) {
    throw new SnapshotCorruptError('checksum', 'graph snapshot header fails its checksum');
  }
  if (formatVersion !== GRAPH_SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotCorruptError(
      'version',
      `graph snapshot format version ${formatVersion} is not supported (this build reads ${GRAPH_SNAPSHOT_FORMAT_VERSION})`,
    );
  }
  const hashLength = b.readUInt16LE(40);
  if (FIXED_HEADER + hashLength > headerBytes - 4) malformed('the schema hash overruns the header');
  return {
    formatVersion,
    schemaHash: b.toString('utf8', FIXED_HEADER, FIXED_HEADER + hashLength),
    revision: Number(b.readBigUInt64LE(8)),
    relationshipCount: Number(b.readBigUInt64LE(16)),
    bodyBytes: Number(b.readBigUInt64LE(24)),
    chunkCount: b.readUInt32LE(32),
    headerBytes,
  };
}

export interface DecodeGraphSnapshotOptions {
  /**
   * Let the graph keep the chunks' bytes as its tables (no copy) when they are already one
   * aligned run of memory (GraphSnapshotCache loads them so). The caller must not touch the
   * chunks afterwards: the graph mutates them as it applies changes. Default false: one copy.
   */
  readonly adopt?: boolean | undefined;
}

/**
 * The graph `chunks` hold, for `schema`. Throws SnapshotCorruptError — never returns a graph —
 * if a chunk is missing, short, long or altered, the format version is unknown, or the snapshot
 * was made for another schema (reason 'schema': compile and publish a fresh one).
 */
export function decodeGraphSnapshot(
  schema: Schema,
  chunks: readonly Uint8Array[],
  options: DecodeGraphSnapshotOptions = {},
): GraphIndex {
  assertLittleEndian();
  if (chunks.length === 0) throw new SnapshotCorruptError('truncated', 'graph snapshot has no chunks');
  const header = readGraphSnapshotHeader(chunks[0]!);
  if (header.schemaHash !== schema.hash) {
    throw new SnapshotCorruptError(
      'schema',
      `graph snapshot was compiled for schema ${header.schemaHash}, not ${schema.hash}`,
    );
  }
  const total = header.headerBytes + header.bodyBytes;
  const received = chunks.reduce((sum, c) => sum + c.length, 0);
  if (chunks.length !== header.chunkCount || received !== total) {
    throw new SnapshotCorruptError(
      'truncated',
      `graph snapshot is incomplete: ${chunks.length} chunks of ${received} bytes, expected ${header.chunkCount} of ${total}`,
    );
  }
  const bytes = wholeSnapshot(chunks, total, options.adopt === true);
  const bodyCrc = crc32(bytes.subarray(header.headerBytes));
  const stored = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32LE(36);
  if (bodyCrc !== stored)
    throw new SnapshotCorruptError('checksum', 'graph snapshot body fails its checksum');
  try {
    return decodeBody(schema, header, new BodyReader(bytes, header.headerBytes, header.bodyBytes));
  } catch (err) {
    if (err instanceof SnapshotCorruptError) throw err;
    throw new SnapshotCorruptError(
      'malformed',
      `graph snapshot is malformed: ${(err as Error).message}`,
      err,
    );
  }
}

/**
 * The snapshot as one 4-byte aligned run of `total` bytes: the chunks themselves when adopting
 * chunks that already are consecutive views of one buffer, else a fresh copy.
 */
function wholeSnapshot(chunks: readonly Uint8Array[], total: number, adopt: boolean): Uint8Array {
  if (adopt) {
    const first = chunks[0]!;
    let end = first.byteOffset + first.byteLength;
    let consecutive = first.byteOffset % 4 === 0;
    for (let i = 1; i < chunks.length && consecutive; i++) {
      const c = chunks[i]!;
      consecutive = c.buffer === first.buffer && c.byteOffset === end;
      end += c.byteLength;
    }
    if (consecutive) return new Uint8Array(first.buffer, first.byteOffset, total);
  }
  const copy = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    copy.set(c, at);
    at += c.byteLength;
  }
  return copy;
}

function decodeBody(schema: Schema, header: GraphSnapshotHeader, r: BodyReader): GraphIndex {
  const graph = new GraphIndex(schema);
  for (const type of schema.types.values()) {
    const name = r.text();
    if (name !== type.name) malformed(`type '${name}' where the schema has '${type.name}'`);
    const count = r.u32();
    const joined = r.bytesView();
    let ids: PackedIds;
    try {
      ids = PackedIds.fromJoined(joined, count);
    } catch (err) {
      malformed(`type '${name}': ${(err as Error).message}`);
    }
    graph.interner(type.name)!.restore(ids, r.int32s());
  }
  const tables = tablesOf(graph);
  if (r.u32() !== tables.length) malformed('adjacency table count does not match the schema');
  for (const table of tables) {
    if (r.u32() !== table.columns) malformed('adjacency table columns do not match the schema');
    const slots = r.int32s();
    const pool = r.int32s();
    table.restore(slots, pool);
  }
  const relations = [...graph.relations()];
  const edgeSets = relations.flatMap((rel) => rel.edgeSets);
  if (r.u32() !== edgeSets.length) malformed('edge set count does not match the schema');
  let edges = 0;
  for (const set of edgeSets) {
    const forward = r.u32();
    const reverse = r.u32();
    if (forward !== reverse) malformed('an edge set has different forward and reverse sizes');
    set.forward.restoreSize(forward);
    set.reverse.restoreSize(reverse);
    edges += forward;
  }
  if (edges > header.relationshipCount) {
    malformed(`edge sets hold ${edges} relationships, the header says ${header.relationshipCount}`);
  }
  const closures = relations.flatMap((rel) => (rel.closure === undefined ? [] : [rel.closure]));
  if (r.u32() !== closures.length) malformed('closure count does not match the schema');
  for (const closure of closures) {
    const enabled = r.u32() === 1;
    const edgesWhenDisabled = r.u32();
    closure.restoreWords(enabled, edgesWhenDisabled, r.int32s());
  }
  graph.restoreCounts(edges, header.revision);
  const attributedCount = r.u32();
  const attributed = r.text();
  const lines = attributedCount === 0 ? [] : attributed.split('\n');
  if (lines.length !== attributedCount) {
    malformed(`the attributes section lists ${lines.length} relationships, expected ${attributedCount}`);
  }
  for (const line of lines) graph.add(parseRelationship(line));
  r.finish();
  if (graph.relationshipCount !== header.relationshipCount) {
    malformed(
      `the snapshot holds ${graph.relationshipCount} relationships, the header says ${header.relationshipCount}`,
    );
  }
  graph.restoreCounts(header.relationshipCount, header.revision);
  return graph;
}
