// The memory store's relationships as rows of six interned numbers (resource type, resource id,
// relation, subject type, subject id, subject relation or -1), in fixed-size typed-array
// chunks, with an open-addressing hash from a row's numbers to the row. Rows compare exactly as
// their canonical strings `type:id#relation@subject` do (UTF-16 code units), which is the order
// reads and cursors have always used, without building those strings.
import type { Relationship } from '../model/relationship.js';
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

/** A packed change: the operation (PACKED_INSERT or PACKED_DELETE) then the row's six numbers. */
export const PACKED_WIDTH = 1 + FIELDS;
export const PACKED_INSERT = 1;
export const PACKED_DELETE = 0;

/** Rows per chunk: chunks never move, and growth wastes at most one partly used chunk. */
const CHUNK_SHIFT = 16;
const CHUNK_ROWS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_ROWS - 1;

/** The separators after each string of a canonical key; index 4 (before a subject relation) is '#'. */
const SEPARATORS = [':', '#', '@', ':', '#'];

/** A frozen relationship holding only the contract's fields. */
function frozen(
  resourceType: string,
  resourceId: string,
  relation: string,
  subjectType: string,
  subjectId: string,
  subjectRelation: string | undefined,
): Relationship {
  const subject =
    subjectRelation === undefined
      ? { type: subjectType, id: subjectId }
      : { type: subjectType, id: subjectId, relation: subjectRelation };
  return Object.freeze({
    resource: Object.freeze({ type: resourceType, id: resourceId }),
    relation,
    subject: Object.freeze(subject),
  });
}

/** A frozen copy holding only the contract's fields, so callers can neither alias nor mutate stored values. */
export function freezeRelationship(r: Relationship): Relationship {
  return frozen(r.resource.type, r.resource.id, r.relation, r.subject.type, r.subject.id, r.subject.relation);
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
  readonly pool = new StringPool();
  private readonly chunks: Int32Array[] = [];
  /** Rows freed by deletes, reused first. */
  private readonly freeRows: number[] = [];
  private rowEnd = 0;
  private count = 0;
  /** Row + 1 per slot (0 = empty), linear probing; at most half full. */
  private slots = new Int32Array(1024);
  /** The numbers of the relationship last resolved: reused, so lookups allocate nothing. */
  private readonly scratch = new Int32Array(FIELDS);

  get size(): number {
    return this.count;
  }

  /** Field `field` of `row`. */
  field(row: number, field: number): number {
    return (this.chunks[row >>> CHUNK_SHIFT] as Int32Array)[(row & CHUNK_MASK) * FIELDS + field] as number;
  }

  /** The row holding exactly this relationship, or -1; never interns. */
  find(r: Relationship): number {
    return this.resolve(r) ? this.lookup(this.scratch) : -1;
  }

  /**
   * Stores `r`, interning its strings, and returns its new row; if it is already stored,
   * returns `-1 - row` instead and changes nothing.
   */
  insert(r: Relationship): number {
    if (this.resolve(r)) {
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
      if (id >= 0) this.pool.retain(id);
      else if (id === NOT_HELD) id = this.pool.acquire(fieldString(r, f) as string);
      chunk[base + f] = id;
    }
    this.count++;
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    this.place(row);
    return row;
  }

  /** Forgets `row`, releasing its strings. */
  remove(row: number): void {
    this.unplace(row);
    for (let f = 0; f < FIELDS; f++) {
      const id = this.field(row, f);
      if (id >= 0) this.pool.release(id);
    }
    this.freeRows.push(row);
    this.count--;
  }

  /** The relationship stored in `row`, as a fresh frozen object. */
  relationship(row: number): Relationship {
    const { pool } = this;
    const subjectRelation = this.field(row, SUBJECT_RELATION);
    return frozen(
      pool.get(this.field(row, RESOURCE_TYPE)),
      pool.get(this.field(row, RESOURCE_ID)),
      pool.get(this.field(row, RELATION)),
      pool.get(this.field(row, SUBJECT_TYPE)),
      pool.get(this.field(row, SUBJECT_ID)),
      subjectRelation < 0 ? undefined : pool.get(subjectRelation),
    );
  }

  /** The canonical string `type:id#relation@subject` of `row`. */
  key(row: number): string {
    const { pool } = this;
    const subjectRelation = this.field(row, SUBJECT_RELATION);
    const plain = `${pool.get(this.field(row, RESOURCE_TYPE))}:${pool.get(this.field(row, RESOURCE_ID))}#${pool.get(this.field(row, RELATION))}@${pool.get(this.field(row, SUBJECT_TYPE))}:${pool.get(this.field(row, SUBJECT_ID))}`;
    return subjectRelation < 0 ? plain : `${plain}#${pool.get(subjectRelation)}`;
  }

  /**
   * Writes change `index` of `packed` as `operation` on `row`, holding a reference to each of
   * its strings so the change can be rebuilt after the row is gone.
   */
  pack(packed: Int32Array, index: number, operation: number, row: number): void {
    const at = index * PACKED_WIDTH;
    packed[at] = operation;
    for (let f = 0; f < FIELDS; f++) {
      const id = this.field(row, f);
      packed[at + 1 + f] = id;
      if (id >= 0) this.pool.retain(id);
    }
  }

  /** The changes `packed` holds, as fresh frozen relationships. */
  unpack(packed: Int32Array): RelationshipChange[] {
    const { pool } = this;
    const changes: RelationshipChange[] = [];
    for (let at = 0; at < packed.length; at += PACKED_WIDTH) {
      const subjectRelation = packed[at + 1 + SUBJECT_RELATION] as number;
      const relationship = frozen(
        pool.get(packed[at + 1 + RESOURCE_TYPE] as number),
        pool.get(packed[at + 1 + RESOURCE_ID] as number),
        pool.get(packed[at + 1 + RELATION] as number),
        pool.get(packed[at + 1 + SUBJECT_TYPE] as number),
        pool.get(packed[at + 1 + SUBJECT_ID] as number),
        subjectRelation < 0 ? undefined : pool.get(subjectRelation),
      );
      changes.push({ operation: packed[at] === PACKED_INSERT ? 'insert' : 'delete', relationship });
    }
    return changes;
  }

  /** Drops the string references `pack` took. */
  releasePacked(packed: Int32Array): void {
    for (let at = 0; at < packed.length; at += PACKED_WIDTH) {
      for (let f = 1; f <= FIELDS; f++) {
        const id = packed[at + f] as number;
        if (id >= 0) this.pool.release(id);
      }
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
    for (let f = 0; f < SUBJECT_RELATION; f++) {
      const x = this.field(a, f);
      const y = this.field(b, f);
      if (x === y) continue;
      const sx = this.pool.get(x);
      const sy = this.pool.get(y);
      const aShorter = sx.length <= sy.length;
      const shorter = aShorter ? sx : sy;
      const longer = aShorter ? sy : sx;
      if (!longer.startsWith(shorter)) return sx < sy ? -1 : 1;
      const next = this.codeAfter(aShorter ? a : b, f);
      const other = longer.charCodeAt(shorter.length);
      if (next !== other) return next < other === aShorter ? -1 : 1;
      const ka = this.key(a);
      const kb = this.key(b);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    }
    // Same subject object: a plain subject's key is a prefix of any subject set's on it.
    const x = this.field(a, SUBJECT_RELATION);
    const y = this.field(b, SUBJECT_RELATION);
    if (x === y) return 0;
    if (x < 0) return -1;
    if (y < 0) return 1;
    return this.pool.get(x) < this.pool.get(y) ? -1 : 1;
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
    let pos = 0;
    const end = probe.length;
    const subjectRelation = this.field(row, SUBJECT_RELATION);
    const pieces = subjectRelation < 0 ? 9 : 11;
    for (let p = 0; p < pieces; p++) {
      const piece = (p & 1) === 1 ? (SEPARATORS[p >>> 1] as string) : this.pool.get(this.field(row, p >>> 1));
      for (let i = 0; i < piece.length; i++, pos++) {
        if (pos === end) return 2;
        const d = piece.charCodeAt(i) - probe.charCodeAt(pos);
        if (d !== 0) return d < 0 ? -1 : 1;
      }
    }
    return pos === end ? 0 : -1;
  }

  /** True when `row`'s canonical key starts with `prefix`. */
  startsWith(row: number, prefix: string): boolean {
    const c = this.compareToString(row, prefix);
    return c === 0 || c === 2;
  }

  /** Fills `scratch` with `r`'s numbers (NOT_HELD for strings not in the pool); true if all are held. */
  private resolve(r: Relationship): boolean {
    const { scratch, pool } = this;
    let held = true;
    for (let f = 0; f < FIELDS; f++) {
      const s = fieldString(r, f);
      const id = s === undefined ? -1 : pool.idOf(s);
      scratch[f] = s === undefined ? -1 : id < 0 ? NOT_HELD : id;
      if (s !== undefined && id < 0) held = false;
    }
    return held;
  }

  private hashOf(ids: ArrayLike<number>): number {
    let h = 0x811c9dc5;
    for (let f = 0; f < FIELDS; f++) h = mix(h, ids[f] as number);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private rowHash(row: number): number {
    const chunk = this.chunks[row >>> CHUNK_SHIFT] as Int32Array;
    const base = (row & CHUNK_MASK) * FIELDS;
    return this.hashOf(chunk.subarray(base, base + FIELDS));
  }

  private lookup(ids: Int32Array): number {
    const mask = this.slots.length - 1;
    for (let i = this.hashOf(ids) & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i] as number;
      if (slot === 0) return -1;
      const row = slot - 1;
      let same = true;
      for (let f = 0; f < FIELDS && same; f++) same = this.field(row, f) === ids[f];
      if (same) return row;
    }
  }

  private place(row: number): void {
    const mask = this.slots.length - 1;
    let i = this.rowHash(row) & mask;
    while ((this.slots[i] as number) !== 0) i = (i + 1) & mask;
    this.slots[i] = row + 1;
  }

  /** Deletes with backward shifting, so lookups never need tombstones. */
  private unplace(row: number): void {
    const { slots } = this;
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
    const old = this.slots;
    this.slots = new Int32Array(size);
    for (let i = 0; i < old.length; i++) if ((old[i] as number) !== 0) this.place((old[i] as number) - 1);
  }
}
