// The rows a MemoryStore snapshot reads, kept readable while later commits remove them. A row is
// copied out (one object) just before a commit removes it, and only if the snapshot holds it and
// has not copied it already: a snapshot read while writes land costs an object per row those
// writes remove, not one per row of the set, and nothing has to stop applying changes while a
// snapshot is read (a RedisStore publishing an image of its mirror, a graph built from a store
// that keeps taking writes).
import type { Relationship } from '../model/relationship.js';
import type { RelationshipIndex } from './relationship-index.js';

export class SnapshotRows {
  /** 1 for each row of the snapshot the store still holds unchanged. */
  readonly #unchanged: Uint8Array;
  /** The snapshot's rows removed since, as they were. */
  readonly #copied = new Map<number, Relationship>();

  /** `rows`: the rows live at the snapshot's revision. */
  constructor(
    private readonly index: RelationshipIndex,
    readonly rows: Int32Array,
  ) {
    this.#unchanged = new Uint8Array(index.rows.rowLimit);
    for (let i = 0; i < rows.length; i++) this.#unchanged[rows[i] as number] = 1;
  }

  /** Told before a commit removes `row` (its number may then be reused for another relationship). */
  rowRemoving(row: number): void {
    if (row >= this.#unchanged.length || this.#unchanged[row] === 0) return;
    this.#unchanged[row] = 0;
    this.#copied.set(row, this.index.relationshipAt(row));
  }

  /** The relationship `row` held at the snapshot's revision (`row` one of `rows`). */
  relationshipAt(row: number): Relationship {
    if (this.#copied.size > 0) {
      const copied = this.#copied.get(row);
      if (copied !== undefined) return copied;
    }
    return this.index.relationshipAt(row);
  }

  /** How many rows have been copied out: what the snapshot costs beyond its row numbers. */
  get copiedRows(): number {
    return this.#copied.size;
  }
}
