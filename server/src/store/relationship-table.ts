// The memory store's relationships as rows of six numbers (resource type, resource id, relation,
// subject type, subject id, subject relation or -1), in fixed-size typed-array chunks, with an
// open-addressing hash from a row's numbers to the row. Types and ids are numbered by an
// ObjectIds the graph built from the store adopts, so each id is held once in the process;
// relation names live in a reference-counted StringPool. Rows compare exactly as their canonical
// strings `type:id#relation@subject` do (UTF-16 code units), which is the order reads and
// cursors have always used, without building those strings.
import { NOT_INTERNED } from '../model/id-interner.js';
import type { NumberedRelationshipVisitor } from '../model/object-ids.js';
import { ObjectIds } from '../model/object-ids.js';
import type { ObjectRef, Relationship, SubjectRef } from '../model/relationship.js';
import { WILDCARD_ID } from '../model/relationship.js';
import type { RelationshipAttributes } from './relationship-attributes.js';
import { AttributeSlots, attributesOf } from './relationship-attributes.js';
import type { RelationshipChange } from './store.js';
import { StringPool } from './string-pool.js';

export const FIELDS = 6;
export const RESOURCE_TYPE = 0;
export const RESOURCE_ID = 1;
export const RELATION = 2;
export const SUBJECT_TYPE = 3;
export const SUBJECT_ID = 4;
/** -1 for a plain subject or wildcard. */
export const SUBJECT_RELATION = 5;

/** The subject id number of a wildcard (`user:*`): `*` is not an object, so it is never numbered. */
export const WILDCARD_NUMBER = -3;

/** Fields whose numbers are StringPool numbers (reference-counted); the others are ObjectIds numbers. */
function pooled(field: number): boolean {
  return field === RELATION || field === SUBJECT_RELATION;
}

/**
 * A packed change: the operation (PACKED_INSERT or PACKED_DELETE, in bit 0; the bits above hold
 * its attribute slot + 1, or 0 when it has none) then the row's six numbers.
 */
export const PACKED_WIDTH = 1 + FIELDS;
export const PACKED_INSERT = 1;
export const PACKED_DELETE = 0;

/** Rows per chunk: chunks never move, and growth wastes at most one partly used chunk. */
const CHUNK_SHIFT = 16;
const CHUNK_ROWS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_ROWS - 1;

/** The separators after each string of a canonical key; index 4 (before a subject relation) is '#'. */
const SEPARATORS = [':', '#', '@', ':', '#'];
const SEPARATOR_CODES = SEPARATORS.map((c) => c.charCodeAt(0));

/** A frozen relationship of these parts, with the attributes' fields when there are any. */
function assemble(
  resource: ObjectRef,
  relation: string,
  subject: SubjectRef,
  attributes: RelationshipAttributes | undefined,
): Relationship {
  if (attributes === undefined) return Object.freeze({ resource, relation, subject });
  return Object.freeze({ resource, relation, subject, ...attributes });
}

/** A frozen copy holding only the contract's fields, so callers can neither alias nor mutate stored values. */
export function freezeRelationship(r: Relationship): Relationship {
  const s = r.subject;
  const subject =
    s.relation === undefined ? { type: s.type, id: s.id } : { type: s.type, id: s.id, relation: s.relation };
  return assemble(
    Object.freeze({ type: r.resource.type, id: r.resource.id }),
    r.relation,
    Object.freeze(subject),
    attributesOf(r),
  );
}

/** String `field` of a relationship; the subject relation is undefined for a plain subject. */
function fieldString(r: Relationship, field: number): string | undefined {
  switch (field) {
    case RESOURCE_TYPE:
      return r.resource.type;
    case RESOURCE_ID:
      return r.resource.id;
    case RELATION:
      return r.relation;
    case SUBJECT_TYPE:
      return r.subject.type;
    case SUBJECT_ID:
      return r.subject.id;
    default:
      return r.subject.relation;
  }
}

/** In a resolved relationship: a string the pool does not hold. (-1 is the absent subject relation.) */
const NOT_HELD = -2;

function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x9e3779b1) ^ (h >>> 15);
}

export class RelationshipTable {
  /** Relation names. */
  readonly pool = new StringPool();
  /** Conditions and expiries, numbered; `rowAttributes` maps the few rows that have one to theirs. */
  private readonly attributes = new AttributeSlots();
  private readonly rowAttributes = new Map<number, number>();
  private readonly chunks: Int32Array[] = [];
  /** Rows freed by deletes, reused first. */
  private readonly freeRows: number[] = [];
  private rowEnd = 0;
  private count = 0;
  /**
   * Row + 1 per slot (0 = empty), linear probing; at most half full. Undefined after a bulk load
   * until the first lookup, insert or removal builds it (see `indexRows`).
   */
  private slots: Int32Array | undefined = new Int32Array(1024);
  /** The numbers of the relationship last resolved: reused, so lookups allocate nothing. */
  private readonly scratch = new Int32Array(FIELDS);
  private readonly recentStrings: (string | undefined)[] = new Array(FIELDS).fill(undefined);
  private readonly recentIds = new Int32Array(FIELDS);
  private recentGeneration = -1;
  /** What `materialize` built last, by number. */
  private readonly lastRefs: {
    generation: number;
    rt: number;
    ri: number;
    st: number;
    si: number;
    sr: number;
    resource: ObjectRef | undefined;
    subject: SubjectRef | undefined;
  } = { generation: -1, rt: -1, ri: -1, st: -1, si: -1, sr: -1, resource: undefined, subject: undefined };

  /** `ids`: the numbering of types and ids, shared with the graph built from this table. */
  constructor(readonly ids: ObjectIds = new ObjectIds()) {}

  get size(): number {
    return this.count;
  }

  /** String `field` of `row` (the subject relation's only when it has one). */
  fieldString(row: number, field: number): string {
    const value = this.field(row, field);
    if (field === RESOURCE_ID) return this.ids.internerOf(this.field(row, RESOURCE_TYPE)).id(value);
    if (field === SUBJECT_ID) return this.subjectIdString(this.field(row, SUBJECT_TYPE), value);
    return this.typeOrRelation(field, value);
  }

  private subjectIdString(type: number, id: number): string {
    return id === WILDCARD_NUMBER ? WILDCARD_ID : this.ids.internerOf(type).id(id);
  }

  /** The string of a type or relation field's number. */
  private typeOrRelation(field: number, value: number): string {
    return pooled(field) ? this.pool.get(value) : this.ids.typeName(value);
  }

  /** One more than the highest row number handed out so far. */
  get rowLimit(): number {
    return this.rowEnd;
  }

  /** Every row holding a relationship, in row-number order. */
  liveRows(): Int32Array {
    const free = new Uint8Array(this.rowEnd);
    for (const row of this.freeRows) free[row] = 1;
    const out = new Int32Array(this.count);
    let i = 0;
    for (let row = 0; row < this.rowEnd; row++) if (free[row] === 0) out[i++] = row;
    return out;
  }

  /** Field `field` of `row`. */
  field(row: number, field: number): number {
    return (this.chunks[row >>> CHUNK_SHIFT] as Int32Array)[(row & CHUNK_MASK) * FIELDS + field] as number;
  }

  /** Hands `rows` to `visitor`: plain ones as numbers, those with a condition or expiry as objects. */
  visitRows(rows: Int32Array, visitor: NumberedRelationshipVisitor): void {
    const { ids, pool, rowAttributes } = this;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as number;
      if (rowAttributes.size > 0 && rowAttributes.has(row)) {
        visitor.relationship(this.relationship(row));
        continue;
      }
      const subjectRelation = this.field(row, SUBJECT_RELATION);
      visitor.numbered(
        ids.typeName(this.field(row, RESOURCE_TYPE)),
        this.field(row, RESOURCE_ID),
        pool.get(this.field(row, RELATION)),
        ids.typeName(this.field(row, SUBJECT_TYPE)),
        this.field(row, SUBJECT_ID),
        subjectRelation < 0 ? undefined : pool.get(subjectRelation),
      );
    }
  }

  /** Sets `out[i]` to field `field` of `rows[i]`: a column read without a call per row. */
  copyField(field: number, rows: Int32Array, out: Int32Array): void {
    const { chunks } = this;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as number;
      out[i] = (chunks[row >>> CHUNK_SHIFT] as Int32Array)[(row & CHUNK_MASK) * FIELDS + field] as number;
    }
  }

  /** The row holding exactly this relationship, or -1; never interns. */
  find(r: Relationship): number {
    return this.resolve(r, 'find') ? this.lookup(this.scratch) : -1;
  }

  /**
   * Stores `r`, interning its strings, and returns its new row; if it is already stored,
   * returns `-1 - row` instead and changes nothing.
   */
  insert(r: Relationship): number {
    // Built before a row is taken: building indexes every live row, and the new one is not yet.
    this.indexed();
    if (this.resolve(r, 'insert')) {
      const present = this.lookup(this.scratch);
      if (present >= 0) return -1 - present;
    }
    const { scratch } = this;
    const row = this.freeRows.pop() ?? this.rowEnd++;
    const chunkIndex = row >>> CHUNK_SHIFT;
    if (chunkIndex === this.chunks.length) this.chunks.push(new Int32Array(CHUNK_ROWS * FIELDS));
    const chunk = this.chunks[chunkIndex] as Int32Array;
    const base = (row & CHUNK_MASK) * FIELDS;
    for (let f = 0; f < FIELDS; f++) {
      let id = scratch[f] as number;
      if (id === NOT_HELD) id = this.number(f, fieldString(r, f) as string, chunk[base + f - 1] as number);
      else if (id >= 0 && pooled(f)) this.pool.retain(id);
      chunk[base + f] = id;
    }
    this.count++;
    const { length } = this.indexed();
    if (this.count * 2 > length) this.rehash(length * 2);
    this.place(row);
    const attributes = attributesOf(r);
    if (attributes !== undefined) this.rowAttributes.set(row, this.attributes.acquire(attributes));
    return row;
  }

  /** The condition and expiry stored with `row`, if it has any. */
  attributesAt(row: number): RelationshipAttributes | undefined {
    const slot = this.rowAttributes.get(row);
    return slot === undefined ? undefined : this.attributes.get(slot);
  }

  /** Replaces `row`'s condition and expiry with `r`'s (none if `r` has none): what a touch does. */
  replaceAttributes(row: number, r: Relationship): void {
    this.dropAttributes(row);
    const attributes = attributesOf(r);
    if (attributes !== undefined) this.rowAttributes.set(row, this.attributes.acquire(attributes));
  }

  private releaseNames(relation: number, subjectRelation: number): void {
    this.pool.release(relation);
    if (subjectRelation >= 0) this.pool.release(subjectRelation);
  }

  private dropAttributes(row: number): void {
    const slot = this.rowAttributes.get(row);
    if (slot === undefined) return;
    this.attributes.release(slot);
    this.rowAttributes.delete(row);
  }

  /**
   * Stores `r` in a new row without looking for it or indexing it (numbering its strings): the
   * bulk load's insert, which finds duplicates by sorting (row-order.ts `groupOrder`, then
   * `sameRow` and `discard`) and leaves the hash to be built on first use (`indexRows`). Returns
   * the row.
   */
  append(r: Relationship): number {
    const row = this.freeRows.pop() ?? this.rowEnd++;
    const chunkIndex = row >>> CHUNK_SHIFT;
    if (chunkIndex === this.chunks.length) this.chunks.push(new Int32Array(CHUNK_ROWS * FIELDS));
    const chunk = this.chunks[chunkIndex] as Int32Array;
    const base = (row & CHUNK_MASK) * FIELDS;
    const { ids, pool } = this;
    const resourceType = ids.internType(r.resource.type);
    const subjectType = ids.internType(r.subject.type);
    chunk[base + RESOURCE_TYPE] = resourceType;
    chunk[base + RESOURCE_ID] = ids.internerOf(resourceType).intern(r.resource.id);
    chunk[base + RELATION] = pool.acquire(r.relation);
    chunk[base + SUBJECT_TYPE] = subjectType;
    chunk[base + SUBJECT_ID] =
      r.subject.id === WILDCARD_ID ? WILDCARD_NUMBER : ids.internerOf(subjectType).intern(r.subject.id);
    chunk[base + SUBJECT_RELATION] = r.subject.relation === undefined ? -1 : pool.acquire(r.subject.relation);
    this.count++;
    const attributes = attributesOf(r);
    if (attributes !== undefined) this.rowAttributes.set(row, this.attributes.acquire(attributes));
    return row;
  }

  /** Whether rows `a` and `b` hold the same relationship (numbers are canonical: equal strings, equal numbers). */
  sameRow(a: number, b: number): boolean {
    for (let f = 0; f < FIELDS; f++) if (this.field(a, f) !== this.field(b, f)) return false;
    return true;
  }

  /** Forgets an appended row that was never indexed (a duplicate found by the bulk load). */
  discard(row: number): void {
    this.releaseNames(this.field(row, RELATION), this.field(row, SUBJECT_RELATION));
    this.dropAttributes(row);
    this.freeRows.push(row);
    this.count--;
  }

  /**
   * Marks every row the table holds (all appended, none indexed yet) as to be indexed, which
   * happens on the first lookup, insert or removal. A sidecar loaded from files and never written
   * to never needs the hash: 8 MB at a million relationships (a table of 2^21 slots).
   */
  indexRows(): void {
    this.slots = undefined;
  }

  /** The hash, built from every live row if `indexRows` deferred it, in a table sized once. */
  private indexed(): Int32Array {
    if (this.slots !== undefined) return this.slots;
    let size = 1024;
    while (this.count * 2 > size) size *= 2;
    this.slots = new Int32Array(size);
    const free = new Uint8Array(this.rowEnd);
    for (const row of this.freeRows) free[row] = 1;
    for (let row = 0; row < this.rowEnd; row++) if (free[row] === 0) this.place(row);
    return this.slots;
  }

  /** Field `field`'s number for `s`, numbering it if new; an id needs its type's number. */
  private number(field: number, s: string, type: number): number {
    if (pooled(field)) return this.pool.acquire(s);
    if (field === RESOURCE_TYPE || field === SUBJECT_TYPE) return this.ids.internType(s);
    return this.ids.internerOf(type).intern(s);
  }

  /** Forgets `row`, releasing its relation names (type and id numbers are never released). */
  remove(row: number): void {
    this.unplace(row);
    this.releaseNames(this.field(row, RELATION), this.field(row, SUBJECT_RELATION));
    this.dropAttributes(row);
    this.freeRows.push(row);
    this.count--;
  }

  /** The relationship stored in `row`, as a frozen object of its own. */
  relationship(row: number): Relationship {
    return this.materialize(
      this.field(row, RESOURCE_TYPE),
      this.field(row, RESOURCE_ID),
      this.field(row, RELATION),
      this.field(row, SUBJECT_TYPE),
      this.field(row, SUBJECT_ID),
      this.field(row, SUBJECT_RELATION),
      this.rowAttributes.get(row) ?? -1,
    );
  }

  /** The canonical string `type:id#relation@subject` of `row`. */
  key(row: number): string {
    const subjectRelation = this.field(row, SUBJECT_RELATION);
    const plain = `${this.fieldString(row, RESOURCE_TYPE)}:${this.fieldString(row, RESOURCE_ID)}#${this.fieldString(row, RELATION)}@${this.fieldString(row, SUBJECT_TYPE)}:${this.fieldString(row, SUBJECT_ID)}`;
    return subjectRelation < 0 ? plain : `${plain}#${this.pool.get(subjectRelation)}`;
  }

  /**
   * Writes change `index` of `packed` as `operation` on `row`, holding a reference to each of
   * its strings so the change can be rebuilt after the row is gone.
   */
  pack(packed: Int32Array, index: number, operation: number, row: number): void {
    const at = index * PACKED_WIDTH;
    const slot = this.rowAttributes.get(row);
    packed[at] = slot === undefined ? operation : operation | ((slot + 1) << 1);
    if (slot !== undefined) this.attributes.retain(slot);
    for (let f = 0; f < FIELDS; f++) {
      const id = this.field(row, f);
      packed[at + 1 + f] = id;
      if (id >= 0 && pooled(f)) this.pool.retain(id);
    }
  }

  /** The changes `packed` holds, as frozen relationships. */
  unpack(packed: Int32Array): RelationshipChange[] {
    const changes: RelationshipChange[] = [];
    for (let at = 0; at < packed.length; at += PACKED_WIDTH) {
      const relationship = this.materialize(
        packed[at + 1 + RESOURCE_TYPE] as number,
        packed[at + 1 + RESOURCE_ID] as number,
        packed[at + 1 + RELATION] as number,
        packed[at + 1 + SUBJECT_TYPE] as number,
        packed[at + 1 + SUBJECT_ID] as number,
        packed[at + 1 + SUBJECT_RELATION] as number,
        ((packed[at] as number) >>> 1) - 1,
      );
      changes.push({
        operation: ((packed[at] as number) & 1) === PACKED_INSERT ? 'insert' : 'delete',
        relationship,
      });
    }
    return changes;
  }

  /** Drops the string references `pack` took. */
  releasePacked(packed: Int32Array): void {
    for (let at = 0; at < packed.length; at += PACKED_WIDTH) {
      const slot = ((packed[at] as number) >>> 1) - 1;
      if (slot >= 0) this.attributes.release(slot);
      this.releaseNames(packed[at + 1 + RELATION] as number, packed[at + 1 + SUBJECT_RELATION] as number);
    }
  }

  /**
   * Rows in canonical-key order. Rows first differ in one of their strings; when neither of the
   * two is a prefix of the other they decide, and when one is, the character after it in its
   * own key (a separator, or the end) against the other's next character decides (`doc1:`
   * sorts before `doc:`). Only a string holding that very separator needs the full keys.
   */
  compare(a: number, b: number): number {
    if (a === b) return 0;
    const chunkA = this.chunks[a >>> CHUNK_SHIFT] as Int32Array;
    const chunkB = this.chunks[b >>> CHUNK_SHIFT] as Int32Array;
    const baseA = (a & CHUNK_MASK) * FIELDS;
    const baseB = (b & CHUNK_MASK) * FIELDS;
    for (let f = 0; f < SUBJECT_RELATION; f++) {
      const x = chunkA[baseA + f] as number;
      const y = chunkB[baseB + f] as number;
      // An id field is reached only with equal types, so different numbers are different strings.
      if (x !== y) return this.compareAt(a, b, f, this.fieldString(a, f), this.fieldString(b, f));
    }
    // Same subject object: a plain subject's key is a prefix of any subject set's on it.
    const x = chunkA[baseA + SUBJECT_RELATION] as number;
    const y = chunkB[baseB + SUBJECT_RELATION] as number;
    if (x === y) return 0;
    if (x < 0) return -1;
    if (y < 0) return 1;
    return this.pool.get(x) < this.pool.get(y) ? -1 : 1;
  }

  /** Rows `a` and `b` whose keys agree up to their different strings `sa` and `sb` of `field`. */
  private compareAt(a: number, b: number, field: number, sa: string, sb: string): number {
    // Different strings of one length: neither is a prefix of the other, so they decide natively.
    if (sa.length === sb.length) return sa < sb ? -1 : 1;
    const aShorter = sa.length < sb.length;
    const n = aShorter ? sa.length : sb.length;
    for (let i = 0; i < n; i++) {
      const d = sa.charCodeAt(i) - sb.charCodeAt(i);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    // One is a prefix of the other: the shorter's next key character (separator or end) decides.
    const next = this.codeAfter(aShorter ? a : b, field);
    const other = (aShorter ? sb : sa).charCodeAt(n);
    if (next !== other) return next < other === aShorter ? -1 : 1;
    const ka = this.key(a);
    const kb = this.key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  }

  /** Rows by subject type number, then subject id number: the grouping of the subject index. */
  compareSubjects(a: number, b: number): number {
    const chunkA = this.chunks[a >>> CHUNK_SHIFT] as Int32Array;
    const chunkB = this.chunks[b >>> CHUNK_SHIFT] as Int32Array;
    const baseA = (a & CHUNK_MASK) * FIELDS;
    const baseB = (b & CHUNK_MASK) * FIELDS;
    return (
      (chunkA[baseA + SUBJECT_TYPE] as number) - (chunkB[baseB + SUBJECT_TYPE] as number) ||
      (chunkA[baseA + SUBJECT_ID] as number) - (chunkB[baseB + SUBJECT_ID] as number)
    );
  }

  /** The code unit after string `field` in `row`'s key: its separator, or -1 at the end of the key. */
  private codeAfter(row: number, field: number): number {
    if (field === SUBJECT_ID && this.field(row, SUBJECT_RELATION) < 0) return -1;
    return (SEPARATORS[field] as string).charCodeAt(0);
  }

  /**
   * How `row`'s canonical key compares with `probe`: negative or 0 as `<` and `===` would say;
   * 1 when it is greater and does not start with `probe`; 2 when it starts with `probe` and is longer.
   */
  compareToString(row: number, probe: string): number {
    const end = probe.length;
    let pos = 0;
    for (let f = 0; f < FIELDS; f++) {
      // A plain subject: the key ends after the subject id.
      if (f === SUBJECT_RELATION && this.field(row, f) < 0) break;
      if (f > 0) {
        if (pos === end) return 2;
        const d = (SEPARATOR_CODES[f - 1] as number) - probe.charCodeAt(pos++);
        if (d !== 0) return d < 0 ? -1 : 1;
      }
      const piece = this.fieldString(row, f);
      for (let i = 0; i < piece.length; i++, pos++) {
        if (pos === end) return 2;
        const d = piece.charCodeAt(i) - probe.charCodeAt(pos);
        if (d !== 0) return d < 0 ? -1 : 1;
      }
    }
    return pos === end ? 0 : -1;
  }

  /**
   * How `row`'s key compares with the key prefix made of the first `count` strings of `ids`,
   * each followed by its separator (`type:`, `type:id#`, `type:id#relation@`), with the same
   * results as compareToString(row, that prefix) but mostly by comparing numbers. `prefix` is
   * that string, for the rare names that hold a separator, and `strings` its parts.
   */
  compareToPrefix(
    row: number,
    ids: Int32Array,
    count: number,
    prefix: string,
    strings: readonly (string | undefined)[],
  ): number {
    for (let f = 0; f < count; f++) {
      const x = this.field(row, f);
      const y = ids[f] as number;
      if (x === y) continue;
      const sx = this.fieldString(row, f);
      const sy = strings[f] as string;
      const rowShorter = sx.length <= sy.length;
      const shorter = rowShorter ? sx : sy;
      const longer = rowShorter ? sy : sx;
      if (!longer.startsWith(shorter)) return sx < sy ? -1 : 1;
      const next = rowShorter ? this.codeAfter(row, f) : (SEPARATOR_CODES[f] as number);
      const other = longer.charCodeAt(shorter.length);
      if (next !== other) return next < other === rowShorter ? -1 : 1;
      return this.compareToString(row, prefix);
    }
    return 2;
  }

  /** True when `row`'s canonical key starts with `prefix`. */
  startsWith(row: number, prefix: string): boolean {
    const c = this.compareToString(row, prefix);
    return c === 0 || c === 2;
  }

  /**
   * A frozen relationship from its numbers. Freezing costs more than building (V8: ~130 ns an
   * object), and consecutive rows in key order often share a resource or subject, so the last
   * frozen resource and subject are reused while the pool has forgotten nothing. They are
   * frozen, so sharing them between relationships is safe.
   */
  private materialize(
    rt: number,
    ri: number,
    rel: number,
    st: number,
    si: number,
    sr: number,
    attributeSlot: number,
  ): Relationship {
    const { pool, lastRefs } = this;
    if (lastRefs.generation !== pool.generation) {
      lastRefs.generation = pool.generation;
      lastRefs.resource = undefined;
      lastRefs.subject = undefined;
    }
    const { ids } = this;
    let resource = lastRefs.resource;
    if (resource === undefined || lastRefs.rt !== rt || lastRefs.ri !== ri) {
      resource = Object.freeze({ type: ids.typeName(rt), id: ids.internerOf(rt).id(ri) });
      lastRefs.resource = resource;
      lastRefs.rt = rt;
      lastRefs.ri = ri;
    }
    let subject = lastRefs.subject;
    if (subject === undefined || lastRefs.st !== st || lastRefs.si !== si || lastRefs.sr !== sr) {
      subject = Object.freeze(
        sr < 0
          ? { type: ids.typeName(st), id: this.subjectIdString(st, si) }
          : { type: ids.typeName(st), id: this.subjectIdString(st, si), relation: pool.get(sr) },
      );
      lastRefs.subject = subject;
      lastRefs.st = st;
      lastRefs.si = si;
      lastRefs.sr = sr;
    }
    const attributes = attributeSlot < 0 ? undefined : this.attributes.get(attributeSlot);
    return assemble(resource, pool.get(rel), subject, attributes);
  }

  /**
   * Fills `scratch` with `r`'s numbers (NOT_HELD for strings not held); true if all are held.
   * For a `find`, returns false at the first string not held, leaving the rest unfilled (a
   * relationship with a string never seen is not stored). For an `insert`, numbers its types and
   * ids as it goes: they are never released, so numbering one now costs nothing if `r` turns out
   * present, and a new id is hashed once instead of looked up and then numbered.
   */
  private resolve(r: Relationship, purpose: 'find' | 'insert'): boolean {
    const inserting = purpose === 'insert';
    const { scratch, pool, recentStrings, recentIds, ids } = this;
    // Types and relations repeat from one relationship to the next: remember the last of each
    // field, for as long as the pool has forgotten nothing (type numbers are never forgotten).
    if (this.recentGeneration !== pool.generation) {
      recentStrings.fill(undefined);
      this.recentGeneration = pool.generation;
    }
    let held = true;
    for (let f = 0; f < FIELDS; f++) {
      const s = fieldString(r, f);
      if (s === undefined) {
        scratch[f] = -1;
        continue;
      }
      let id: number;
      if (f === RESOURCE_ID || f === SUBJECT_ID) {
        const type = scratch[f - 1] as number;
        id =
          f === SUBJECT_ID && s === WILDCARD_ID
            ? WILDCARD_NUMBER
            : type < 0
              ? NOT_INTERNED
              : inserting
                ? ids.internerOf(type).intern(s)
                : ids.internerOf(type).lookup(s);
      } else if (s === recentStrings[f]) id = recentIds[f] as number;
      else {
        id = pooled(f) ? pool.idOf(s) : inserting ? ids.internType(s) : ids.typeNumber(s);
        if (id >= 0) {
          recentStrings[f] = s;
          recentIds[f] = id;
        }
      }
      if (id === -1) {
        if (!inserting) return false;
        scratch[f] = NOT_HELD;
        held = false;
      } else scratch[f] = id;
    }
    return held;
  }

  /** The hash of the six numbers at `ids[base..]`. */
  private hashOf(ids: Int32Array, base: number): number {
    let h = 0x811c9dc5;
    for (let f = 0; f < FIELDS; f++) h = mix(h, ids[base + f] as number);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private rowHash(row: number): number {
    return this.hashOf(this.chunks[row >>> CHUNK_SHIFT] as Int32Array, (row & CHUNK_MASK) * FIELDS);
  }

  private lookup(ids: Int32Array): number {
    const slots = this.indexed();
    const mask = slots.length - 1;
    for (let i = this.hashOf(ids, 0) & mask; ; i = (i + 1) & mask) {
      const slot = slots[i] as number;
      if (slot === 0) return -1;
      const row = slot - 1;
      const chunk = this.chunks[row >>> CHUNK_SHIFT] as Int32Array;
      const base = (row & CHUNK_MASK) * FIELDS;
      let same = true;
      for (let f = 0; f < FIELDS && same; f++) same = chunk[base + f] === ids[f];
      if (same) return row;
    }
  }

  /** Puts `row` in the hash, which must exist (`indexed`). */
  private place(row: number): void {
    const slots = this.slots as Int32Array;
    const mask = slots.length - 1;
    let i = this.rowHash(row) & mask;
    while ((slots[i] as number) !== 0) i = (i + 1) & mask;
    slots[i] = row + 1;
  }

  /** Deletes with backward shifting, so lookups never need tombstones. */
  private unplace(row: number): void {
    const slots = this.indexed();
    const mask = slots.length - 1;
    let i = this.rowHash(row) & mask;
    while ((slots[i] as number) !== row + 1) i = (i + 1) & mask;
    let hole = i;
    for (let j = (hole + 1) & mask; (slots[j] as number) !== 0; j = (j + 1) & mask) {
      const home = this.rowHash((slots[j] as number) - 1) & mask;
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        slots[hole] = slots[j] as number;
        hole = j;
      }
    }
    slots[hole] = 0;
  }

  private rehash(size: number): void {
    const old = this.indexed();
    this.slots = new Int32Array(size);
    for (let i = 0; i < old.length; i++) if ((old[i] as number) !== 0) this.place((old[i] as number) - 1);
  }
}
