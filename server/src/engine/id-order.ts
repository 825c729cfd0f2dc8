// The sorted order of one type's object ids, kept beside its interner, so that putting a
// lookup's answer in order (thousands to hundreds of thousands of ids) sorts small integers
// instead of comparing strings. Profiles of the LookupResources bench put the string sort of
// each answer next to the walk itself.
//
// Interned numbers are dense and never renumbered, so the order of the first `covered` ids stays
// right as the interner grows. Ids numbered since are sorted as strings and merged into each
// answer; once they are more than a share of the order they are merged into it (binary search
// per new id plus one copy, not a sort of everything again).
import type { IdInterner } from '../graph/interner.js';

/** Merge new ids into the order once they exceed 1/REFRESH_SHARE of it (or REFRESH_MIN). */
const REFRESH_SHARE = 8;
const REFRESH_MIN = 64;
/** Sort an answer by marking ranks once it holds at least 1/MARK_SHARE of its type's ids. */
const MARK_SHARE = 32;

/** UTF-16 code-unit order, the order Array.prototype.sort() gives strings: every replica agrees. */
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class IdOrder {
  /** x → its position among the covered ids. */
  #rank: Int32Array = new Int32Array(0);
  /** position → x. */
  #byRank: Int32Array = new Int32Array(0);
  /** Ids numbered below this are in the order. */
  #covered = 0;

  constructor(readonly interner: IdInterner) {}

  /** Ids in the order; the rest of the interner's are sorted per answer until the next refresh. */
  get covered(): number {
    return this.#covered;
  }

  /** The ids of `objects` (distinct numbers from this interner) sorted by UTF-16 code units. */
  sortedIds(objects: readonly number[]): string[] {
    this.#refreshIfStale();
    const interner = this.interner;
    const covered = this.#covered;
    const rank = this.#rank;
    const ranks = new Int32Array(objects.length);
    let n = 0;
    const fresh: string[] = [];
    for (const x of objects) {
      if (x < covered) ranks[n++] = rank[x]!;
      else fresh.push(interner.id(x));
    }
    const sorted = sortRanks(ranks.subarray(0, n), covered);
    const byRank = this.#byRank;
    const out: string[] = [];
    if (fresh.length === 0) {
      for (let i = 0; i < n; i++) out.push(interner.id(byRank[sorted[i]!]!));
      return out;
    }
    fresh.sort();
    let f = 0;
    for (let i = 0; i < n; i++) {
      const id = interner.id(byRank[sorted[i]!]!);
      while (f < fresh.length && fresh[f]! < id) out.push(fresh[f++]!);
      out.push(id);
    }
    while (f < fresh.length) out.push(fresh[f++]!);
    return out;
  }

  #refreshIfStale(): void {
    const size = this.interner.size;
    const covered = this.#covered;
    // A smaller interner is not one this order was built from: start over.
    if (size < covered) this.#rebuild(size);
    else if (size - covered > Math.max(REFRESH_MIN, covered / REFRESH_SHARE)) {
      if (covered === 0) this.#rebuild(size);
      else this.#merge(size);
    }
  }

  /** The order of ids 0..size-1, from one sort of the strings. */
  #rebuild(size: number): void {
    const interner = this.interner;
    const numbers: number[] = [];
    for (let x = 0; x < size; x++) numbers.push(x);
    numbers.sort((a, b) => byCodeUnits(interner.id(a), interner.id(b)));
    this.#install(Int32Array.from(numbers), size);
  }

  /** Ids covered..size-1 merged into the order: each placed by binary search, then one copy. */
  #merge(size: number): void {
    const interner = this.interner;
    const old = this.#byRank;
    const added: number[] = [];
    for (let x = this.#covered; x < size; x++) added.push(x);
    added.sort((a, b) => byCodeUnits(interner.id(a), interner.id(b)));
    const byRank = new Int32Array(size);
    let from = 0;
    let to = 0;
    for (const x of added) {
      const at = upperBound(old, from, interner, interner.id(x));
      byRank.set(old.subarray(from, at), to);
      to += at - from;
      from = at;
      byRank[to++] = x;
    }
    byRank.set(old.subarray(from), to);
    this.#install(byRank, size);
  }

  #install(byRank: Int32Array, size: number): void {
    const rank = new Int32Array(size);
    for (let r = 0; r < size; r++) rank[byRank[r]!] = r;
    this.#byRank = byRank;
    this.#rank = rank;
    this.#covered = size;
  }
}

/**
 * `ranks` (distinct, below `range`) in ascending order. An answer that holds a good share of the
 * type (an admin's: every document) is marked in a byte per rank and read back in one pass, which
 * costs the type's size rather than a sort; a smaller one is sorted as integers.
 */
function sortRanks(ranks: Int32Array, range: number): Int32Array {
  if (ranks.length * MARK_SHARE < range) return ranks.sort();
  const marks = new Uint8Array(range);
  for (let i = 0; i < ranks.length; i++) marks[ranks[i]!] = 1;
  let k = 0;
  for (let r = 0; r < range; r++) if (marks[r] === 1) ranks[k++] = r;
  return ranks;
}

/** First position at or after `from` in `byRank` whose id sorts after `id`. */
function upperBound(byRank: Int32Array, from: number, interner: IdInterner, id: string): number {
  let lo = from;
  let hi = byRank.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (interner.id(byRank[mid]!) > id) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
