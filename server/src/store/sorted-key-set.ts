// An ordered set of strings kept as a list of small sorted blocks, so inserts, deletes and
// seeks stay cheap at millions of keys (a plain sorted array would move every element).
//
// Keys compare by UTF-16 code unit (the JS `<` operator): the same order on every platform,
// which is what makes read cursors portable between pages.

/** Blocks split when they grow past twice this size; small enough that a splice is a short memmove. */
const DEFAULT_BLOCK_SIZE = 512;

/** First index in `sorted` whose element is >= key. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in `sorted` whose element is > key. */
function upperBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedKeySet {
  /** Non-empty sorted blocks; every key of block i is smaller than every key of block i+1. */
  private readonly blocks: string[][] = [];
  /** maxes[i] is the last key of blocks[i]: the search index over blocks. */
  private readonly maxes: string[] = [];
  private count = 0;
  private readonly blockSize: number;

  constructor(blockSize: number = DEFAULT_BLOCK_SIZE) {
    if (!Number.isInteger(blockSize) || blockSize < 2) {
      throw new RangeError(`SortedKeySet block size must be an integer >= 2, got ${blockSize}`);
    }
    this.blockSize = blockSize;
  }

  /** Builds a set from keys already in strictly ascending order, in linear time. */
  static fromSorted(keys: readonly string[], blockSize: number = DEFAULT_BLOCK_SIZE): SortedKeySet {
    const set = new SortedKeySet(blockSize);
    for (let i = 0; i < keys.length; i += blockSize) {
      const block = keys.slice(i, i + blockSize);
      set.blocks.push(block);
      set.maxes.push(block[block.length - 1] as string);
    }
    set.count = keys.length;
    return set;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `key`; returns false if it was already present. */
  add(key: string): boolean {
    if (this.blocks.length === 0) {
      this.blocks.push([key]);
      this.maxes.push(key);
      this.count = 1;
      return true;
    }
    // A key above every max goes at the end of the last block.
    const b = Math.min(lowerBound(this.maxes, key), this.blocks.length - 1);
    const block = this.blocks[b] as string[];
    const pos = lowerBound(block, key);
    if (block[pos] === key) return false;
    block.splice(pos, 0, key);
    this.maxes[b] = block[block.length - 1] as string;
    this.count++;
    if (block.length > 2 * this.blockSize) {
      const tail = block.splice(this.blockSize);
      this.blocks.splice(b + 1, 0, tail);
      this.maxes.splice(b, 1, block[block.length - 1] as string, tail[tail.length - 1] as string);
    }
    return true;
  }

  /** Removes `key`; returns false if it was absent. */
  delete(key: string): boolean {
    const b = lowerBound(this.maxes, key);
    const block = this.blocks[b];
    if (block === undefined) return false;
    const pos = lowerBound(block, key);
    if (block[pos] !== key) return false;
    block.splice(pos, 1);
    this.count--;
    if (block.length === 0) {
      this.blocks.splice(b, 1);
      this.maxes.splice(b, 1);
    } else {
      this.maxes[b] = block[block.length - 1] as string;
    }
    return true;
  }

  /**
   * Keys in ascending order, starting at `from` (inclusive) or just after it (`exclusive`).
   * The set must not change while the iterator is in use.
   */
  *from(from: string, exclusive = false): Generator<string, void, undefined> {
    const bound = exclusive ? upperBound : lowerBound;
    let b = bound(this.maxes, from);
    if (b >= this.blocks.length) return;
    let pos = bound(this.blocks[b] as string[], from);
    for (; b < this.blocks.length; b++, pos = 0) {
      const block = this.blocks[b] as string[];
      for (; pos < block.length; pos++) yield block[pos] as string;
    }
  }

  /** Keys starting with `prefix`, ascending, beginning after `after` when it is given. */
  *withPrefix(prefix: string, after?: string): Generator<string, void, undefined> {
    const resume = after !== undefined && after >= prefix;
    for (const key of this.from(resume ? after : prefix, resume)) {
      if (!key.startsWith(prefix)) return;
      yield key;
    }
  }
}
