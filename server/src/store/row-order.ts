// Bulk ordering of a loaded relationship table by stable counting sorts (LSD radix) over each
// field's rank, instead of a comparison sort whose 20 comparisons per row each look at strings:
// the start-up load of millions of relationships was mostly that sort.
import type { RelationshipTable } from './relationship-table.js';
import { FIELDS, SUBJECT_ID, SUBJECT_RELATION, SUBJECT_TYPE } from './relationship-table.js';

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

/** Rank (0-based) of every pool string used in `field`, ordered as that field orders keys; -1 if unused. */
function fieldRanks(
  table: RelationshipTable,
  rows: Int32Array,
  field: number,
): { rank: Int32Array; range: number } {
  const limit = table.pool.limit;
  const rank = new Int32Array(limit).fill(-1);
  const used: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const id = table.field(rows[i]!, field);
    if (id >= 0 && rank[id] === -1) {
      rank[id] = 0;
      used.push(id);
    }
  }
  const sep = SEPARATORS[field]!;
  const keyed = used.map((id) => [table.pool.get(id) + sep, id] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  keyed.forEach(([, id], r) => {
    rank[id] = r;
  });
  return { rank, range: keyed.length };
}

/**
 * `rows` in key order (as `table.compare`), by one counting sort per field, last field first.
 * The result is checked pair by pair with `table.compare`; if a field did hold its separator
 * (ids the store was never meant to hold), the comparison sort decides instead.
 */
export function keyOrder(table: RelationshipTable, rows: Int32Array): Int32Array {
  let out = rows;
  for (let f = FIELDS - 1; f >= 0; f--) {
    const { rank, range } = fieldRanks(table, out, f);
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
        : countingSort(out, (row) => rank[table.field(row, f)]!, range);
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
  const byId = countingSort(keyOrdered, (row) => table.field(row, SUBJECT_ID), maxId + 1);
  return countingSort(byId, (row) => table.field(row, SUBJECT_TYPE), maxId + 1);
}
