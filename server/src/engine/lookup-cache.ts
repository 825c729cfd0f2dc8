// Sorted LookupResources answers kept for clients paging through them with cursors (HTTP), so
// paging through N ids costs one walk of the graph, not one per page.

/** Bounds on what the cache holds; both are checked on every insert. */
export interface LookupCacheLimits {
  /** Answers held at most. */
  readonly maxEntries: number;
  /** Ids held at most over all answers (each id is one pointer to a string the graph keeps). */
  readonly maxIds: number;
}

/**
 * Enough for dozens of clients paging at once: with fewer entries than concurrent pagers every
 * page evicts another client's answer, and each page walks and sorts the whole answer again
 * (at 16 concurrent HTTP pagers a 4-entry cache took LookupResources from about 100 to 4
 * lookups/s: bench/RESULTS.md). 4M ids are 32 MB of pointers.
 */
export const DEFAULT_LOOKUP_CACHE_LIMITS: LookupCacheLimits = { maxEntries: 64, maxIds: 4_000_000 };

/**
 * A least-recently-used map from a lookup's key to its sorted answer, valid for one graph
 * version: answers of an older version are dropped as soon as a newer one is seen, since the
 * version only grows.
 */
export class LookupCache {
  // Map iteration order is insertion order: re-inserting on use keeps the least recent first.
  readonly #entries = new Map<string, readonly string[]>();
  #version = -1;
  #ids = 0;

  constructor(private readonly limits: LookupCacheLimits = DEFAULT_LOOKUP_CACHE_LIMITS) {}

  /** The answer cached for `key` at graph `version`, or undefined. */
  get(key: string, version: number): readonly string[] | undefined {
    if (version !== this.#version) return undefined;
    const ids = this.#entries.get(key);
    if (ids === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, ids);
    return ids;
  }

  /** Keep `ids` for `key` at `version`, evicting the least recently used beyond the limits. */
  set(key: string, version: number, ids: readonly string[]): void {
    if (version !== this.#version) this.#clear(version);
    const old = this.#entries.get(key);
    if (old !== undefined) {
      this.#entries.delete(key);
      this.#ids -= old.length;
    }
    // An answer over the whole budget is not kept: it would evict everything else.
    if (ids.length > this.limits.maxIds) return;
    this.#entries.set(key, ids);
    this.#ids += ids.length;
    for (const [k, v] of this.#entries) {
      if (this.#entries.size <= this.limits.maxEntries && this.#ids <= this.limits.maxIds) break;
      this.#entries.delete(k);
      this.#ids -= v.length;
    }
  }

  /** Answers held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Ids held over all answers. */
  get idCount(): number {
    return this.#ids;
  }

  #clear(version: number): void {
    this.#entries.clear();
    this.#ids = 0;
    this.#version = version;
  }
}
