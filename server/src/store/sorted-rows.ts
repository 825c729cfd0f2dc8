// An ordered set of row numbers under a caller's comparator, kept as a list of small sorted
// Int32Array blocks: 4 bytes a row plus block slack, and inserts, deletes and seeks stay cheap
// at millions of rows (one sorted array would move every element on each insert).

/** Blocks hold up to twice this many rows and split in half when full. */
const DEFAULT_BLOCK_SIZE = 256;

export type RowComparator = (a: number, b: number) => number;

/** A position in the set: block and offset. */
export interface RowPosition {
  block: number;
  offset: number;
}

export class SortedRows {
  private readonly blocks: Int32Array[] = [];
  private readonly lengths: number[] = [];
  private count = 0;
  private readonly capacity: number;

  constructor(
    private readonly compare: RowComparator,
    blockSize: number = DEFAULT_BLOCK_SIZE,
  ) {
    if (!Number.isInteger(blockSize) || blockSize < 1) {
      throw new RangeError(`SortedRows block size must be a positive integer, got ${blockSize}`);
    }
    this.capacity = 2 * blockSize;
  }

  /**
   * Builds a set from rows already in strictly ascending order, in linear time. Blocks are filled
   * to 7/8 of their capacity, not half: a loaded set is mostly read, and the two orderings of a
   * million rows then take 9 MB instead of 16; the first inserts into a block split it as usual.
   */
  static fromSorted(
    compare: RowComparator,
    rows: ArrayLike<number>,
    blockSize: number = DEFAULT_BLOCK_SIZE,
  ): SortedRows {
    const set = new SortedRows(compare, blockSize);
    const fill = Math.max(1, set.capacity - Math.max(1, set.capacity >>> 3));
    for (let i = 0; i < rows.length; i += fill) {
      const n = Math.min(fill, rows.length - i);
      const block = new Int32Array(set.capacity);
      for (let j = 0; j < n; j++) block[j] = rows[i + j] as number;
      set.blocks.push(block);
      set.lengths.push(n);
    }
    set.count = rows.length;
    return set;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `row`; returns false if a row comparing equal is already present. */
  add(row: number): boolean {
    if (this.blocks.length === 0) {
      const block = new Int32Array(this.capacity);
      block[0] = row;
      this.blocks.push(block);
      this.lengths.push(1);
      this.count = 1;
      return true;
    }
    const at = this.seek((other) => this.compare(other, row));
    // A row above every other goes at the end of the last block.
    if (at.block === this.blocks.length) {
      at.block--;
      at.offset = this.lengths[at.block] as number;
    }
    const block = this.blocks[at.block] as Int32Array;
    const length = this.lengths[at.block] as number;
    if (at.offset < length && this.compare(block[at.offset] as number, row) === 0) return false;
    block.copyWithin(at.offset + 1, at.offset, length);
    block[at.offset] = row;
    this.lengths[at.block] = length + 1;
    this.count++;
    if (length + 1 === this.capacity) this.split(at.block);
    return true;
  }

  /** Removes `row`; returns false if it was absent. */
  delete(row: number): boolean {
    const at = this.seek((other) => this.compare(other, row));
    const block = this.blocks[at.block];
    const length = this.lengths[at.block] ?? 0;
    if (block === undefined || at.offset >= length || block[at.offset] !== row) return false;
    block.copyWithin(at.offset, at.offset + 1, length);
    this.lengths[at.block] = length - 1;
    this.count--;
    if (length === 1) {
      this.blocks.splice(at.block, 1);
      this.lengths.splice(at.block, 1);
    }
    return true;
  }

  /** Removes every row `marked` flags (marked[row] === 1), in one pass over the blocks. */
  deleteMarked(marked: Uint8Array): void {
    let kept = 0;
    for (let b = 0; b < this.blocks.length; b++) {
      const block = this.blocks[b] as Int32Array;
      const length = this.lengths[b] as number;
      let n = 0;
      for (let i = 0; i < length; i++) {
        const row = block[i] as number;
        if (marked[row] !== 1) block[n++] = row;
      }
      this.count -= length - n;
      if (n === 0) continue;
      // Thinned blocks merge into the previous one while it stays at most half full.
      const previous = kept - 1;
      if (previous >= 0 && (this.lengths[previous] as number) + n <= this.capacity >>> 1) {
        (this.blocks[previous] as Int32Array).set(block.subarray(0, n), this.lengths[previous] as number);
        this.lengths[previous] = (this.lengths[previous] as number) + n;
        continue;
      }
      this.blocks[kept] = block;
      this.lengths[kept] = n;
      kept++;
    }
    this.blocks.length = kept;
    this.lengths.length = kept;
  }

  /**
   * The first position whose row `probe` does not call "before the target" (probe < 0): rows
   * must be ordered so that those rows form a prefix. Past the end when there is none.
   */
  seek(probe: (row: number) => number): RowPosition {
    const { blocks, lengths } = this;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const block = blocks[mid] as Int32Array;
      if (probe(block[(lengths[mid] as number) - 1] as number) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === blocks.length) return { block: lo, offset: 0 };
    const block = blocks[lo] as Int32Array;
    let a = 0;
    let b = lengths[lo] as number;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (probe(block[mid] as number) < 0) a = mid + 1;
      else b = mid;
    }
    return { block: lo, offset: a };
  }

  /** Rows in order from `position`. The set must not change while the iterator is in use. */
  *from(position: RowPosition): Generator<number, void, undefined> {
    const { blocks, lengths } = this;
    for (let b = position.block, o = position.offset; b < blocks.length; b++, o = 0) {
      const block = blocks[b] as Int32Array;
      const length = lengths[b] as number;
      for (; o < length; o++) yield block[o] as number;
    }
  }

  private split(b: number): void {
    const block = this.blocks[b] as Int32Array;
    const half = this.capacity >>> 1;
    const tail = new Int32Array(this.capacity);
    tail.set(block.subarray(half));
    this.blocks.splice(b + 1, 0, tail);
    this.lengths.splice(b, 1, half, this.capacity - half);
  }
}
