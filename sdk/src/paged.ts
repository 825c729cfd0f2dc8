// A paged result read either item by item or page by page, fetching pages lazily.

/**
 * The result of a paged call (`lookupResources`, `read`). Iterate it for items, or call
 * `pages()` for whole pages with their cursors. Each iteration makes its own requests;
 * breaking out of a loop stops fetching.
 *
 * @example
 * for await (const id of client.lookupResources({ resourceType: 'contact', permission: 'view', subject: 'user:mike' })) {
 *   console.log(id);
 * }
 */
export class Paged<T, P> implements AsyncIterable<T> {
  readonly #fetchPages: () => AsyncIterable<P>;
  readonly #itemsOf: (page: P) => readonly T[];

  constructor(fetchPages: () => AsyncIterable<P>, itemsOf: (page: P) => readonly T[]) {
    this.#fetchPages = fetchPages;
    this.#itemsOf = itemsOf;
  }

  /**
   * Every page in order, each with the cursor that resumes after it.
   *
   * @example
   * for await (const page of client.read({ filter, pageSize: 100 }).pages()) await save(page.relationships, page.nextCursor);
   */
  pages(): AsyncIterable<P> {
    return this.#fetchPages();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const page of this.#fetchPages()) yield* this.#itemsOf(page);
  }

  /**
   * Every item of every page, in order.
   *
   * @example
   * const ids = await client.lookupResources({ resourceType: 'contact', permission: 'view', subject: 'user:mike' }).toArray();
   */
  async toArray(): Promise<T[]> {
    const all: T[] = [];
    for await (const item of this) all.push(item);
    return all;
  }
}
