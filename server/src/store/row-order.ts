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

/** Stable counting sort of `rows` by `keys[row-slot]`, keys in 0..range-1. */
function countingSort(rows: Int32Array, keyOf: (row: number) => number, range: number): Int32Array {
  const counts = new Int32Array(range + 1);
  const keys = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const k = keyOf(rows[i]!);
    keys[i] = k;
    counts[k + 1]!++;
  }
  for (let k = 0; k < range; k++) counts[k + 1]! += counts[k]!;
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[counts[keys[i]!]!++] = rows[i]!;
  return out;
}

/**
 * Every number `field` can hold as a code in 0..limit-1. Ids are numbered per type, so an id's
 * code is its type's offset plus its number; a wildcard subject takes the last code.
 */
function fieldCodes(
  table: RelationshipTable,
  field: number,
): { limit: number; code: (row: number) => number } {
  if (field === RELATION || field === SUBJECT_RELATION)
    return { limit: table.pool.limit, code: (row) => table.field(row, field) };
  if (field === RESOURCE_TYPE || field === SUBJECT_TYPE)
    return { limit: table.ids.typeCount, code: (row) => table.field(row, field) };
  const offsets = new Int32Array(table.ids.typeCount + 1);
  for (let t = 0; t < table.ids.typeCount; t++) offsets[t + 1] = offsets[t]! + table.ids.internerOf(t).size;
  const wildcard = offsets[table.ids.typeCount]!;
  const typeField = field === RESOURCE_ID ? RESOURCE_TYPE : SUBJECT_TYPE;
  return {
    limit: wildcard + 1,
    code: (row) => {
      const id = table.field(row, field);
      return id === WILDCARD_NUMBER ? wildcard : offsets[table.field(row, typeField)]! + id;
    },
  };
}

/** Rank (0-based) of every code used in `field`, ordered as that field orders keys; -1 if unused. */
function fieldRanks(
  table: RelationshipTable,
  rows: Int32Array,
  field: number,
): { rank: Int32Array; range: number; code: (row: number) => number } {
  const { limit, code } = fieldCodes(table, field);
  const rank = new Int32Array(limit).fill(-1);
  const used: number[] = [];
  const sep = SEPARATORS[field]!;
  const keyed: (readonly [string, number])[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (field === SUBJECT_RELATION && table.field(row, field) < 0) continue;
    const c = code(row);
    if (rank[c] === -1) {
      rank[c] = 0;
      used.push(c);
      keyed.push([table.fieldString(row, field) + sep, c]);
    }
  }
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  keyed.forEach(([, c], r) => {
    rank[c] = r;
  });
  return { rank, range: keyed.length, code };
}

/**
 * `rows` in key order (as `table.compare`), by one counting sort per field, last field first.
 * The result is checked pair by pair with `table.compare`; if a field did hold its separator
 * (ids the store was never meant to hold), the comparison sort decides instead.
 */
export function keyOrder(table: RelationshipTable, rows: Int32Array): Int32Array {
  let out = rows;
  for (let f = FIELDS - 1; f >= 0; f--) {
    const { rank, range, code } = fieldRanks(table, out, f);
    // A plain subject (-1 relation) sorts before every subject set on the same object.
    out =
      f === SUBJECT_RELATION
        ? countingSort(
            out,
            (row) => {
              const id = table.field(row, f);
              return id < 0 ? 0 : rank[id]! + 1;
            },
            range + 1,
          )
        : countingSort(out, (row) => rank[code(row)]!, range);
  }
  for (let i = 1; i < out.length; i++) {
    if (table.compare(out[i - 1]!, out[i]!) >= 0) return rows.slice().sort((a, b) => table.compare(a, b));
  }
  return out;
}

/** `keyOrdered` (rows in key order) grouped by subject type then id number, key order kept within each. */
export function subjectOrder(table: RelationshipTable, keyOrdered: Int32Array): Int32Array {
  let maxId = 0;
  for (let i = 0; i < keyOrdered.length; i++) {
    const row = keyOrdered[i]!;
    maxId = Math.max(maxId, table.field(row, SUBJECT_TYPE), table.field(row, SUBJECT_ID));
  }
  // Wildcards (a negative number) sort first within their type, as compareSubjects has them.
  const byId = countingSort(keyOrdered, (row) => Math.max(0, table.field(row, SUBJECT_ID) + 1), maxId + 2);
  return countingSort(byId, (row) => table.field(row, SUBJECT_TYPE), maxId + 1);
}
