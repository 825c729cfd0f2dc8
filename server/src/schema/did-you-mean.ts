// "Did you mean …?" suggestions for misspelt names, by edit distance to the declared names.

/**
 * Edit distance counting an insertion, deletion, substitution or swap of two adjacent characters
 * as one edit (optimal string alignment): `veiw` is one edit from `view`. Stops early and returns
 * a value above `limit` once every alignment exceeds it.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (a === b) return 0;
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let previousMin = 0;
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, beforePrevious[j - 2]! + 1);
      }
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    // A swap reaches back two rows, so only two rows over the limit prove the distance is.
    if (rowMin > limit && previousMin > limit) return Math.min(rowMin, previousMin);
    previousMin = rowMin;
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate closest to `name`, if it is close enough to be a likely typo: at most a third of
 * the name's length (and at least 1) edits away. Ties go to the alphabetically first candidate
 * so the suggestion does not depend on declaration order.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const d = editDistance(name, candidate, limit);
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean 'x'?` when a close candidate exists, else the empty string: append to a message. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const match = closestName(name, candidates);
  return match === undefined ? '' : `; did you mean '${match}'?`;
}

/**
 * Like didYouMean for (possibly namespaced) type names: `crm/usr` is compared with the other
 * types of namespace `crm` by their unqualified names (`usr` against `user`, `customer`), so
 * the shared prefix does not make distant names look close.
 */
export function didYouMeanType(name: string, candidates: Iterable<string>): string {
  const slash = name.lastIndexOf('/');
  const prefix = slash < 0 ? '' : name.slice(0, slash + 1);
  const local: string[] = [];
  for (const c of candidates) {
    const cs = c.lastIndexOf('/');
    if ((cs < 0 ? '' : c.slice(0, cs + 1)) === prefix) local.push(c.slice(prefix.length));
  }
  const match = closestName(name.slice(prefix.length), local);
  return match === undefined ? '' : `; did you mean '${prefix}${match}'?`;
}
