// Maps the object ids of one type to dense integers (and back), so adjacency can live in
// typed arrays indexed by object number, and the memory store can keep rows of numbers. Lives
// in model/ because the store and the graph share one numbering (see object-ids.ts).
import type { PackedIds } from './packed-ids.js';

/** Returned by `lookup` for an id that was never interned. */
export const NOT_INTERNED = -1;

const INITIAL_SLOTS = 1 << 8;
/** Int32 words per slot: [number + 1, key word 1, key word 2, key word 3]. */
const SLOT_WORDS = 4;
/** Longest id kept inside its slot: one length byte and 11 Latin-1 characters fill 12 bytes. */
const MAX_INLINE = 11;
/** Length byte marking a key too long for its slot: word 2 then holds its hash. */
const OUT_OF_LINE = 0xff;

/** FNV-1a over UTF-16 code units; `encode` computes the same while packing the key. */
function hashId(id: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * hashId of a key kept inline, computed from its slot words (length byte, then one byte per
 * Latin-1 character): growing the table rehashes every id, and reading the id strings instead is
 * a cache miss or more per id (a quarter of a second per million ids at start-up).
 */
function hashInline(k1: number, k2: number, k3: number): number {
  const length = k1 & 0xff;
  let h = 0x811c9dc5 | 0;
  for (let j = 1; j <= length; j++) {
    const word = j < 4 ? k1 : j < 8 ? k2 : k3;
    h = Math.imul(h ^ ((word >>> (8 * (j & 3))) & 0xff), 0x01000193);
  }
  return h;
}

/**
 * Dense id numbering for one object type. Numbers are never reused: an object whose last
 * relationship is removed keeps its number, so numbers stay stable while the index lives.
 *
 * An open-addressing hash table over one Int32Array. Resolving the two ids of a check was most
 * of its cost on large graphs (bench/RESULTS.md): every probe that has to look at a separate id
 * string is another cache miss, or several (the slot, the array of ids, the string). So a slot
 * holds the key itself when it is short and Latin-1 (most ids: `u123`, `d2458461`, `acme-42`),
 * and a hit reads one 16-byte slot and nothing else. For a longer key (a UUID) the slot holds its
 * hash, and the id string is compared only on a hash match. (A character arena compared in a
 * JS loop was tried for those: 0.8x the speed of V8's own string compare on 40-character ids.)
 */
export class IdInterner {
  /** Ids numbered from `packedCount` on, as strings (all of them unless restored from a snapshot). */
  private ids: string[] = [];
  /** Ids 0 .. packedCount - 1 as a snapshot held them, decoded on demand (see packed-ids.ts). */
  private packed: PackedIds | undefined;
  private packedCount = 0;
  private slots = new Int32Array(INITIAL_SLOTS * SLOT_WORDS);
  private mask = INITIAL_SLOTS - 1;
  // The key of the id being looked up, set by `encode` (fields, not a returned tuple: no allocation).
  private k1 = 0;
  private k2 = 0;
  private k3 = 0;

  /** The number of `id`, assigning the next one if it is new. */
  intern(id: string): number {
    const hash = this.encode(id);
    const i = this.find(id, hash);
    const stored = this.slots[SLOT_WORDS * i]!;
    if (stored !== 0) return stored - 1;
    const n = this.size;
    this.ids.push(id);
    const at = SLOT_WORDS * i;
    this.slots[at] = n + 1;
    this.slots[at + 1] = this.k1;
    this.slots[at + 2] = this.k2;
    this.slots[at + 3] = this.k3;
    // Keep the load factor at most 1/2 so probe sequences stay short.
    if (this.size * 2 > this.mask + 1) this.grow();
    return n;
  }

  /** The slot table, for a snapshot (see `restore`). Do not mutate. */
  get table(): Int32Array {
    return this.slots;
  }

  /**
   * Takes back the state of an interner whose ids (in number order) and slot table a snapshot
   * stored: no id is hashed again. Throws RangeError on a table that cannot be this interner's.
   * Packed ids are kept as they are (decoded when asked for); both arguments are adopted, not copied.
   */
  restore(ids: string[] | PackedIds, table: Int32Array<ArrayBuffer>): void {
    if (this.size !== 0) throw new RangeError('restore needs an empty interner');
    const count = Array.isArray(ids) ? ids.length : ids.count;
    const capacity = table.length / SLOT_WORDS;
    if (!Number.isInteger(capacity) || capacity < INITIAL_SLOTS || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError('id table size is not a power of two');
    }
    if (count * 2 > capacity) throw new RangeError('id table too small for its ids');
    let used = 0;
    for (let at = 0; at < table.length; at += SLOT_WORDS) {
      const stored = table[at]!;
      if (stored === 0) continue;
      if (stored < 0 || stored > count) throw new RangeError('id table names an id it does not hold');
      used++;
    }
    if (used !== count) throw new RangeError('id table and id list disagree');
    if (Array.isArray(ids)) this.ids = ids;
    else {
      this.packed = ids;
      this.packedCount = count;
    }
    this.slots = table;
    this.mask = capacity - 1;
  }

  /**
   * Every id in number order as UTF-8 joined by '\n' (what a graph snapshot stores), without
   * decoding ids still packed. Throws RangeError if an id contains a newline.
   */
  joinedIds(): Uint8Array {
    for (const id of this.ids) {
      if (id.includes('\n')) throw new RangeError(`object id ${JSON.stringify(id)} contains a newline`);
    }
    const tail = Buffer.from(this.ids.join('\n'), 'utf8');
    if (this.packed === undefined || this.packedCount === 0) return tail;
    if (this.ids.length === 0) return this.packed.joined;
    return Buffer.concat([this.packed.joined, Buffer.from('\n'), tail]);
  }

  /** The number of `id`, or NOT_INTERNED. */
  lookup(id: string): number {
    const hash = this.encode(id);
    return this.slots[SLOT_WORDS * this.find(id, hash)]! - 1;
  }

  /** The id numbered `n`; `n` must come from this interner. */
  id(n: number): string {
    return n < this.packedCount ? this.packed!.id(n) : this.ids[n - this.packedCount]!;
  }

  /** How many ids have been numbered: valid numbers are `0 .. size - 1`. */
  get size(): number {
    return this.packedCount + this.ids.length;
  }

  /** Bytes held by the slot table (the id strings themselves are not counted). */
  get byteLength(): number {
    return this.slots.byteLength;
  }

  /**
   * Hashes `id` (FNV-1a over UTF-16 code units) and sets k1..k3 to its slot key: packed
   * characters if it fits inline, else the out-of-line marker and the hash.
   */
  private encode(id: string): number {
    const length = id.length;
    if (length > MAX_INLINE) return this.outOfLine(hashId(id));
    let h = 0x811c9dc5 | 0;
    let k1 = length;
    let k2 = 0;
    let k3 = 0;
    for (let i = 0; i < length; i++) {
      const c = id.charCodeAt(i);
      if (c > 0xff) return this.outOfLine(hashId(id));
      h = Math.imul(h ^ c, 0x01000193);
      // Byte j of the 12-byte key (byte 0 is the length) goes to word j >> 2.
      const j = i + 1;
      if (j < 4) k1 |= c << (8 * j);
      else if (j < 8) k2 |= c << (8 * (j - 4));
      else k3 |= c << (8 * (j - 8));
    }
    this.k1 = k1;
    this.k2 = k2;
    this.k3 = k3;
    return h;
  }

  private outOfLine(hash: number): number {
    this.k1 = OUT_OF_LINE;
    this.k2 = hash;
    this.k3 = 0;
    return hash;
  }

  /** The slot holding the key just encoded, or the empty slot where it belongs. */
  private find(id: string, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const { k1, k2, k3 } = this;
    let i = hash & mask;
    for (;;) {
      const at = SLOT_WORDS * i;
      if (slots[at] === 0) return i;
      if (slots[at + 1] === k1 && slots[at + 2] === k2) {
        if (k1 !== OUT_OF_LINE) {
          if (slots[at + 3] === k3) return i;
        } else if (this.idIs(slots[at]! - 1, id)) return i;
      }
      i = (i + 1) & mask;
    }
  }

  private idIs(n: number, id: string): boolean {
    return n < this.packedCount ? this.packed!.equals(n, id) : this.ids[n - this.packedCount] === id;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const slots = new Int32Array(capacity * SLOT_WORDS);
    const mask = capacity - 1;
    for (let at = 0; at < old.length; at += SLOT_WORDS) {
      const stored = old[at]!;
      if (stored === 0) continue;
      const hash =
        old[at + 1] === OUT_OF_LINE ? old[at + 2]! : hashInline(old[at + 1]!, old[at + 2]!, old[at + 3]!);
      let i = hash & mask;
      while (slots[SLOT_WORDS * i] !== 0) i = (i + 1) & mask;
      const to = SLOT_WORDS * i;
      slots[to] = stored;
      slots[to + 1] = old[at + 1]!;
      slots[to + 2] = old[at + 2]!;
      slots[to + 3] = old[at + 3]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
