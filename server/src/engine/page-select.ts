// One page of a LookupResources answer: the `limit` smallest ids after the cursor, in order,
// found by selection rather than by sorting every id (an admin may see millions of documents).

/** Partitions `ids[lo..hi]` around a median-of-three pivot; returns the pivot's final index. */
function partition(ids: string[], lo: number, hi: number): number {
  const mid = (lo + hi) >>> 1;
  // Order ids[lo], ids[mid], ids[hi] so the median sits at mid, then park it at hi.
  if (ids[mid]! < ids[lo]!) swap(ids, mid, lo);
  if (ids[hi]! < ids[lo]!) swap(ids, hi, lo);
  if (ids[hi]! < ids[mid]!) swap(ids, hi, mid);
  swap(ids, mid, hi);
  const pivot = ids[hi]!;
  let store = lo;
  for (let i = lo; i < hi; i++) {
    if (ids[i]! < pivot) {
      swap(ids, i, store);
      store++;
    }
  }
  swap(ids, store, hi);
  return store;
}

function swap(ids: string[], a: number, b: number): void {
  const t = ids[a]!;
  ids[a] = ids[b]!;
  ids[b] = t;
}

/** Rearranges `ids` so its first `k` entries are its `k` smallest (in no particular order). */
function selectSmallest(ids: string[], k: number): void {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo < hi) {
    const p = partition(ids, lo, hi);
    if (p === k - 1 || p === k) return;
    if (p < k) lo = p + 1;
    else hi = p - 1;
  }
}

/**
 * The first `limit` ids greater than `after` (all ids if `after` is undefined), sorted by UTF-16
 * code units, and whether more follow. Ids must be distinct. Reorders `ids`.
 */
export function selectPage(
  ids: string[],
  after: string | undefined,
  limit: number,
): { readonly page: string[]; readonly more: boolean } {
  let rest = ids;
  if (after !== undefined) rest = ids.filter((id) => id > after);
  const more = rest.length > limit;
  // Selection pays off once the page is a small part of what is left; sorting is simpler below that.
  if (more && rest.length > 4 * limit) {
    selectSmallest(rest, limit);
    rest.length = limit;
  }
  rest.sort();
  if (rest.length > limit) rest.length = limit;
  return { page: rest, more };
}
