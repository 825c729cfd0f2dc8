// Maps the object ids of one type to dense integers (and back), so adjacency can live in
// typed arrays indexed by object number instead of string-keyed maps.

/** Returned by `lookup` for an id that was never interned. */
export const NOT_INTERNED = -1;

/**
 * Dense id numbering for one object type. Numbers are never reused: an object whose last
 * relationship is removed keeps its number, so numbers stay stable while the index lives.
 */
export class IdInterner {
  private readonly numbers = new Map<string, number>();
  private readonly ids: string[] = [];

  /** The number of `id`, assigning the next one if it is new. */
  intern(id: string): number {
    const known = this.numbers.get(id);
    if (known !== undefined) return known;
    const n = this.ids.length;
    this.numbers.set(id, n);
    this.ids.push(id);
    return n;
  }

  /** The number of `id`, or NOT_INTERNED. */
  lookup(id: string): number {
    return this.numbers.get(id) ?? NOT_INTERNED;
  }

  /** The id numbered `n`; `n` must come from this interner. */
  id(n: number): string {
    return this.ids[n]!;
  }

  /** How many ids have been numbered: valid numbers are `0 .. size - 1`. */
  get size(): number {
    return this.ids.length;
  }
}
