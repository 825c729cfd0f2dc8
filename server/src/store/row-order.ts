// Bulk ordering of a loaded relationship table by stable counting sorts (LSD radix) over each
// key part's rank, instead of a comparison sort whose 20 comparisons per row each look at strings:
// the start-up load of millions of relationships was mostly that sort.
import type { RelationshipTable } from './relationship-table.js';
import {
  RELATION,
  RESOURCE_ID,
  RESOURCE_TYPE,
  SUBJECT_ID,
  SUBJECT_RELATION,
  SUBJECT_TYPE,
  WILDCARD_NUMBER,
} from './relationship-table.js';

/** Stable counting sort of `rows` by `keys[i]` (the key of `rows[i]`), keys in 0..range-1. */
function countingSort(rows: Int32Array, keys: Int32Array, range: number): Int32Array {
  const counts = new Int32Array(range + 1);
  for (let i = 0; i < rows.length; i++) counts[keys[i]! + 1]!++;
  for (let k = 0; k < range; k++) counts[k + 1]! += counts[k]!;
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[counts[keys[i]!]!++] = rows[i]!;
  return out;
}

/**
 * One counting-sort pass: a part of the canonical key `type:id#relation@type:id[#relation]`.
 * An object (type and id) is one pass, not two: ids are numbered per type, so `offset of its
 * type + its number` already names the object, and its rank is that of the string `type:id`.
 */
interface Pass {
  /** The field whose number the pass reads (an object's id). */
  readonly field: number;
  /** For an object, the field holding its type. */
  readonly typeField?: number;
  /**
   * What follows the part (an object's id) in the key: ranking `part + separator` orders parts as whole keys
   * order (no part holds its own separator). The subject and its relation end the key, or
   * precede '#', which sorts below every character an id may hold, so they rank as plain strings.
   */
  readonly separator: string;
}

/** Last part first (least significant digit first). */
const PASSES: readonly Pass[] = [
  { field: SUBJECT_RELATION, separator: '' },
  { field: SUBJECT_ID, typeField: SUBJECT_TYPE, separator: '' },
  { field: RELATION, separator: '@' },
  { field: RESOURCE_ID, typeField: RESOURCE_TYPE, separator: '#' },
];

/**
 * Sets `codes[i]` to a number for `pass`'s part of `rows[i]`, each distinct string its own code
 * in 0..limit-1, and returns limit. An object's code is its type's offset plus its id number (a
 * wildcard takes its type's code past every id); an absent subject relation is code 0.
 */
function partCodes(
  table: RelationshipTable,
  rows: Int32Array,
  pass: Pass,
  codes: Int32Array,
  scratch: Int32Array,
): number {
  table.copyField(pass.field, rows, codes);
  if (pass.field === RELATION) return table.pool.limit;
  if (pass.typeField === undefined) {
    for (let i = 0; i < rows.length; i++) codes[i]!++;
    return table.pool.limit + 1;
  }
  const { ids } = table;
  const offsets = new Int32Array(ids.typeCount + 1);
  for (let t = 0; t < ids.typeCount; t++) offsets[t + 1] = offsets[t]! + ids.internerOf(t).size;
  const wildcards = offsets[ids.typeCount]!;
  table.copyField(pass.typeField, rows, scratch);
  for (let i = 0; i < rows.length; i++) {
    const id = codes[i]!;
    codes[i] = id === WILDCARD_NUMBER ? wildcards + scratch[i]! : offsets[scratch[i]!]! + id;
  }
  return wildcards + ids.typeCount;
}

/** Each type's rank among the strings `type:`, by type number: how an object's type part orders. */
function typeRanks(table: RelationshipTable): Int32Array {
  const { ids } = table;
  const heads = Array.from({ length: ids.typeCount }, (_, t) => [`${ids.typeName(t)}:`, t] as const);
  heads.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const ranks = new Int32Array(ids.typeCount);
  heads.forEach(([, t], r) => {
    ranks[t] = r;
  });
  return ranks;
}

/**
 * `rows` in key order (as `table.compare`) by one stable counting sort per key part, last part
 * first, over each part's rank (its distinct strings sorted once); undefined if the result is
 * not in key order, which happens only if a field holds its separator (ids the store was never
 * meant to hold).
 */
export function radixKeyOrder(table: RelationshipTable, rows: Int32Array): Int32Array | undefined {
  const n = rows.length;
  const codes = new Int32Array(n);
  const scratch = new Int32Array(n);
  let out = rows;
  for (const pass of PASSES) {
    const limit = partCodes(table, out, pass, codes, scratch);
    const rank = new Int32Array(limit).fill(-1);
    // An object ranks by its type's rank, then by `id + separator`: no `type:id` string is built
    // (a million of them outlived a 64 MB heap while sorted).
    const keyed: (readonly [string, number, number])[] = [];
    const ranks = pass.typeField === undefined ? undefined : typeRanks(table);
    // Code 0 of the subject relation is "none": a plain subject sorts before every subject set.
    const absent = pass.field === SUBJECT_RELATION ? 0 : -1;
    for (let i = 0; i < n; i++) {
      const c = codes[i]!;
      if (rank[c] !== -1 || c === absent) continue;
      rank[c] = 0;
      const row = out[i]!;
      const typeRank = ranks === undefined ? 0 : ranks[table.field(row, pass.typeField!)]!;
      keyed.push([table.fieldString(row, pass.field) + pass.separator, c, typeRank]);
    }
    keyed.sort((a, b) => a[2] - b[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const shift = absent === 0 ? 1 : 0;
    keyed.forEach(([, c], r) => {
      rank[c] = r + shift;
    });
    if (absent === 0) rank[0] = 0;
    for (let i = 0; i < n; i++) scratch[i] = rank[codes[i]!]!;
    out = countingSort(out, scratch, keyed.length + shift);
  }
  // Equal rows (duplicates the bulk load has yet to drop) stay adjacent, in input order.
  for (let i = 1; i < out.length; i++) {
    if (table.compare(out[i - 1]!, out[i]!) > 0) return undefined;
  }
  return out;
}

/** `rows` in key order, stably: by the radix sort, or by `table.compare` where it cannot decide. */
export function keyOrder(table: RelationshipTable, rows: Int32Array): Int32Array {
  return radixKeyOrder(table, rows) ?? rows.slice().sort((a, b) => table.compare(a, b));
}

/**
 * `rows` grouped by number, not by string, stably: by the combination of resource type, relation,
 * subject type and subject relation (numbered in order of first appearance), then resource id
 * number, then subject id number (a wildcard first). Equal rows end up adjacent (in input order),
 * every list of the graph's adjacency is one run, and one edge set's rows follow each other: what
 * the bulk load needs to drop duplicates and the graph build to fill its lists, at three
 * counting sorts over numbers. Key order (`keyOrder`) ranks every distinct id string first, which
 * cost about 0.6 s at start-up per million relationships, and only reads in key order need it.
 */
export function groupOrder(table: RelationshipTable, rows: Int32Array): Int32Array {
  const n = rows.length;
  const keys = new Int32Array(n);
  // Subject id: a wildcard (negative) is 0, id k is k + 1.
  table.copyField(SUBJECT_ID, rows, keys);
  let range = 1;
  for (let i = 0; i < n; i++) {
    const key = Math.max(0, keys[i]! + 1);
    keys[i] = key;
    if (key >= range) range = key + 1;
  }
  let out = countingSort(rows, keys, range);
  table.copyField(RESOURCE_ID, out, keys);
  range = 1;
  for (let i = 0; i < n; i++) if (keys[i]! >= range) range = keys[i]! + 1;
  out = countingSort(out, keys, range);
  // The edge set's four small numbers as one code; consecutive rows mostly share them.
  const codes = new Map<number, number>();
  const types = table.ids.typeCount;
  const names = table.pool.limit + 1;
  let lastKey = -1;
  let lastCode = -1;
  for (let i = 0; i < n; i++) {
    const row = out[i]!;
    // Up to types² × names² combinations: exact as a double, where int32 could wrap.
    const combined =
      ((table.field(row, RESOURCE_TYPE) * names + table.field(row, RELATION)) * types +
        table.field(row, SUBJECT_TYPE)) *
        names +
      table.field(row, SUBJECT_RELATION) +
      1;
    if (combined !== lastKey) {
      lastKey = combined;
      let code = codes.get(combined);
      if (code === undefined) {
        code = codes.size;
        codes.set(combined, code);
      }
      lastCode = code;
    }
    keys[i] = lastCode;
  }
  return countingSort(out, keys, codes.size);
}

/** `keyOrdered` (rows in key order) grouped by subject type then id number, key order kept within each. */
export function subjectOrder(table: RelationshipTable, keyOrdered: Int32Array): Int32Array {
  const n = keyOrdered.length;
  const keys = new Int32Array(n);
  table.copyField(SUBJECT_ID, keyOrdered, keys);
  let maxId = 0;
  // Wildcards (a negative number) sort first within their type, as compareSubjects has them.
  for (let i = 0; i < n; i++) {
    const key = Math.max(0, keys[i]! + 1);
    keys[i] = key;
    if (key > maxId) maxId = key;
  }
  const byId = countingSort(keyOrdered, keys, maxId + 1);
  table.copyField(SUBJECT_TYPE, byId, keys);
  return countingSort(byId, keys, table.ids.typeCount);
}
