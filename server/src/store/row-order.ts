// Bulk ordering of a loaded relationship table by stable counting sorts (LSD radix) over each
// field's rank, instead of a comparison sort whose 20 comparisons per row each look at strings:
// the start-up load of millions of relationships was mostly that sort.
import type { RelationshipTable } from './relationship-table.js';
import {
  FIELDS,
  RELATION,
  RESOURCE_ID,
  RESOURCE_TYPE,
  SUBJECT_ID,
  SUBJECT_RELATION,
  SUBJECT_TYPE,
  WILDCARD_NUMBER,
} from './relationship-table.js';

/**
 * The character after each field in a canonical key `type:id#relation@type:id[#relation]`:
 * ranking `string + separator` orders fields as the whole keys order (no field holds its own
 * separator). Subject id and relation end the key, or precede '#' which sorts below every
 * character an id may hold, so they rank as plain strings.
 */
const SEPARATORS = [':', '#', '@', ':', '', ''];

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
 * Sets `codes[i]` to a number for field `field` of `rows[i]`, each distinct string its own code
 * in 0..limit-1, and returns limit. Ids are numbered per type, so an id's code is its type's
 * offset plus its number (a wildcard takes the last code); an absent subject relation is code 0.
 */
function fieldCodes(
  table: RelationshipTable,
  rows: Int32Array,
  field: number,
  codes: Int32Array,
  scratch: Int32Array,
): number {
  table.copyField(field, rows, codes);
  if (field === RESOURCE_TYPE || field === SUBJECT_TYPE) return table.ids.typeCount;
  if (field === RELATION) return table.pool.limit;
  if (field === SUBJECT_RELATION) {
    for (let i = 0; i < rows.length; i++) codes[i]!++;
    return table.pool.limit + 1;
  }
  const { ids } = table;
  const offsets = new Int32Array(ids.typeCount + 1);
  for (let t = 0; t < ids.typeCount; t++) offsets[t + 1] = offsets[t]! + ids.internerOf(t).size;
  const wildcard = offsets[ids.typeCount]!;
  table.copyField(field === RESOURCE_ID ? RESOURCE_TYPE : SUBJECT_TYPE, rows, scratch);
  for (let i = 0; i < rows.length; i++) {
    const id = codes[i]!;
    codes[i] = id === WILDCARD_NUMBER ? wildcard : offsets[scratch[i]!]! + id;
  }
  return wildcard + 1;
}

/**
 * `rows` in key order (as `table.compare`), stably, by one counting sort per field, last field
 * first, over each field's rank (its strings sorted once). The result is checked pair by pair
 * with `table.compare`; if a field did hold its separator (ids the store was never meant to
 * hold), the comparison sort decides instead.
 */
export function keyOrder(table: RelationshipTable, rows: Int32Array): Int32Array {
  const n = rows.length;
  const codes = new Int32Array(n);
  const scratch = new Int32Array(n);
  let out = rows;
  for (let f = FIELDS - 1; f >= 0; f--) {
    const limit = fieldCodes(table, out, f, codes, scratch);
    const rank = new Int32Array(limit).fill(-1);
    const keyed: (readonly [string, number])[] = [];
    const sep = SEPARATORS[f]!;
    // Code 0 of the subject relation is "none": a plain subject sorts before every subject set.
    const absent = f === SUBJECT_RELATION ? 0 : -1;
    for (let i = 0; i < n; i++) {
      const c = codes[i]!;
      if (rank[c] !== -1 || c === absent) continue;
      rank[c] = 0;
      keyed.push([table.fieldString(out[i]!, f) + sep, c]);
    }
    keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
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
    if (table.compare(out[i - 1]!, out[i]!) > 0) return rows.slice().sort((a, b) => table.compare(a, b));
  }
  return out;
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
