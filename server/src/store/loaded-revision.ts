// The memory store's revision 1 (the startup load) as the changelog retains it: not a packed copy
// of every loaded relationship (28 bytes each, for as long as the revision is retained) but the
// rows themselves, plus a packed copy of just those loaded rows that later commits remove.

import { relationshipKey } from '../model/relationship.js';
import type { DeferredChanges } from './change-feed.js';
import type { RelationshipIndex } from './relationship-index.js';
import { PACKED_INSERT, PACKED_WIDTH } from './relationship-table.js';
import type { RelationshipChange } from './store.js';

export class LoadedRevision implements DeferredChanges {
  /** 1 for each row below `rowLimit` that still holds the relationship it was loaded with. */
  private live: Uint8Array | undefined;
  /** Packed inserts of the loaded relationships whose rows have been removed since. */
  private removed = new Int32Array(0);
  private removedCount = 0;
  /** Rows below this may be loaded ones; rows at or above it were inserted later. */
  private readonly rowLimit: number;

  /** `loadedRows`: the rows the load left (duplicates it dropped are free rows, not loaded ones). */
  constructor(
    private readonly index: RelationshipIndex,
    loadedRows: ArrayLike<number>,
  ) {
    this.rowLimit = index.rows.rowLimit;
    this.live = new Uint8Array(this.rowLimit);
    for (let i = 0; i < loadedRows.length; i++) this.live[loadedRows[i] as number] = 1;
  }

  /** Called before `row` is removed: a loaded relationship is packed first, so it can still be replayed. */
  rowRemoving(row: number): void {
    const { live } = this;
    if (live === undefined || row >= this.rowLimit || live[row] === 0) return;
    live[row] = 0;
    if ((this.removedCount + 1) * PACKED_WIDTH > this.removed.length) {
      const grown = new Int32Array(Math.max(64, this.removed.length * 2));
      grown.set(this.removed);
      this.removed = grown;
    }
    this.index.rows.pack(this.removed, this.removedCount++, PACKED_INSERT, row);
  }

  /** The loaded relationships as inserts, in key order, as they were at load. */
  changes(): RelationshipChange[] {
    const { live, index } = this;
    if (live === undefined) return [];
    const kept: RelationshipChange[] = [];
    for (const row of index.orderedRows()) {
      if (row < this.rowLimit && live[row] === 1)
        kept.push({ operation: 'insert', relationship: index.relationshipAt(row) });
    }
    if (this.removedCount === 0) return kept;
    const gone = index.rows.unpack(this.removed.subarray(0, this.removedCount * PACKED_WIDTH));
    // Canonical keys order exactly as rows do (relationship-table.ts), so the two lists merge by key.
    const keyed = (c: RelationshipChange): [string, RelationshipChange] => [
      relationshipKey(c.relationship),
      c,
    ];
    const a = kept.map(keyed);
    const b = gone.map(keyed).sort((x, y) => (x[0] < y[0] ? -1 : 1));
    const out: RelationshipChange[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (
        j === b.length ||
        (i < a.length &&
          (a[i] as [string, RelationshipChange])[0] < (b[j] as [string, RelationshipChange])[0])
      )
        out.push((a[i++] as [string, RelationshipChange])[1]);
      else out.push((b[j++] as [string, RelationshipChange])[1]);
    }
    return out;
  }

  /** The revision left the changelog window: forget the rows and drop the packed copies' string references. */
  release(): void {
    if (this.live === undefined) return;
    this.index.rows.releasePacked(this.removed.subarray(0, this.removedCount * PACKED_WIDTH));
    this.live = undefined;
    this.removed = new Int32Array(0);
    this.removedCount = 0;
  }
}
