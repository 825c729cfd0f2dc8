// Sorted LookupResources answers, kept per graph version for every listing of the same question:
// paging through N ids with cursors (HTTP) costs one walk of the graph, not one per page, and
// the 2nd..nth listing of an answer (a stream, or a first page) costs none while the graph is
// unchanged. Each answer also keeps its pages, so a page read twice is the same object: the
// transports key their encoded bytes on it (transport/wire/lookup-page-cache.ts) and encode a
// page once for every caller that reads it.
import { encodeCursor } from './cursor.js';
import type { LookupResourcesPage } from './types.js';

/** Bounds on what the cache holds; both are checked on every insert. */
export interface LookupCacheLimits {
  /** Answers held at most. */
  readonly maxEntries: number;
  /**
   * Ids held at most over all answers. An id costs a pointer in the answer, another in the
   * page that holds it once the page is read, and its encoded bytes (about 10-11 per id per
   * transport) once a transport has sent that page.
   */
  readonly maxIds: number;
}

/**
 * Enough for dozens of clients paging at once: with fewer entries than concurrent pagers every
 * page evicts another client's answer, and each page walks and sorts the whole answer again
 * (at 16 concurrent HTTP pagers a 4-entry cache took LookupResources from about 100 to 4
 * lookups/s: bench/RESULTS.md). Entries are many because most answers are small: with 64, the
 * bench's mix of many users and a few admins (one lookup in fifteen) evicted the admins'
 * answers, the costly ones, between their listings. 2M ids are at most about 75 MB with their
 * pages and both transports' encodings (8 admins' listings of every document at 1M
 * relationships).
 */
export const DEFAULT_LOOKUP_CACHE_LIMITS: LookupCacheLimits = { maxEntries: 256, maxIds: 2_000_000 };

/**
 * Memoize pages up to this many times the answer's ids: a client asking for other page sizes or
 * odd cursors gets its pages, unkept, once the answer holds twice its ids in pages.
 */
const MAX_PAGED_SHARE = 2;

/** One sorted answer and the pages read from it. */
export class LookupAnswer {
  readonly #pages = new Map<string, LookupResourcesPage>();
  #paged = 0;

  constructor(readonly ids: readonly string[]) {}

  /** The page of `limit` ids from position `start`, with a cursor when more follow. */
  page(start: number, limit: number): LookupResourcesPage {
    const key = `${limit}@${start}`;
    const kept = this.#pages.get(key);
    if (kept !== undefined) return kept;
    const ids = this.ids;
    const end = Math.min(start + limit, ids.length);
    const resourceIds = ids.slice(start, end);
    const page: LookupResourcesPage =
      end < ids.length
        ? { resourceIds, nextCursor: encodeCursor(resourceIds[resourceIds.length - 1]!) }
        : { resourceIds };
    if (this.#paged + resourceIds.length <= MAX_PAGED_SHARE * ids.length) {
      this.#pages.set(key, page);
      this.#paged += resourceIds.length;
    }
    return page;
  }
}

/**
 * A least-recently-used map from a lookup's key to its sorted answer, valid for one graph
 * version: answers of an older version are dropped as soon as a newer one is seen, since the
 * version only grows.
 */
export class LookupCache {
  // Map iteration order is insertion order: re-inserting on use keeps the least recent first.
  readonly #entries = new Map<string, LookupAnswer>();
  #version = -1;
  #ids = 0;

  constructor(private readonly limits: LookupCacheLimits = DEFAULT_LOOKUP_CACHE_LIMITS) {}

  /** The answer cached for `key` at graph `version`, or undefined. */
  get(key: string, version: number): LookupAnswer | undefined {
    if (version !== this.#version) return undefined;
    const answer = this.#entries.get(key);
    if (answer === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, answer);
    return answer;
  }

  /**
   * Keep `ids` for `key` at `version`, evicting the least recently used beyond the limits; the
   * answer to page from (kept, or not when it is over the whole budget).
   */
  set(key: string, version: number, ids: readonly string[]): LookupAnswer {
    if (version !== this.#version) this.#clear(version);
    const answer = new LookupAnswer(ids);
    const old = this.#entries.get(key);
    if (old !== undefined) {
      this.#entries.delete(key);
      this.#ids -= old.ids.length;
    }
    // An answer over the whole budget is not kept: it would evict everything else.
    if (ids.length > this.limits.maxIds) return answer;
    this.#entries.set(key, answer);
    this.#ids += ids.length;
    for (const [k, v] of this.#entries) {
      if (this.#entries.size <= this.limits.maxEntries && this.#ids <= this.limits.maxIds) break;
      this.#entries.delete(k);
      this.#ids -= v.ids.length;
    }
    return answer;
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
