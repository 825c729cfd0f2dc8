// One direction of an edge set: for each node number, its neighbour numbers, packed into
// typed arrays so millions of edges cost a few bytes each and create no per-node objects.

const INITIAL_NODES = 16;
const INITIAL_POOL = 64;

/** Slots reserved in the pool for a list of `length` > 1 entries: the next power of two. */
function capacityFor(length: number): number {
  return length <= 2 ? 2 : 2 ** Math.ceil(Math.log2(length));
}

/**
 * Neighbour lists indexed by node number. A node of degree 1 keeps its neighbour inline in
 * `offsets` (most objects have exactly one owner, one parent…); larger lists live in a shared
 * Int32Array pool with power-of-two capacity and move to the end when they outgrow it. Space
 * left behind is reclaimed by compaction once it exceeds the live part. Neighbour order is not
 * meaningful: removal swaps the last neighbour into the hole.
 */
export class Adjacency {
  private lengths = new Int32Array(INITIAL_NODES);
  private offsets = new Int32Array(INITIAL_NODES);
  private pool = new Int32Array(INITIAL_POOL);
  private top = 0;
  private garbage = 0;
  private edges = 0;

  /** Number of neighbours of `node` (0 for nodes never seen). */
  degree(node: number): number {
    return node >= 0 && node < this.lengths.length ? this.lengths[node]! : 0;
  }

  /** The `i`-th neighbour of `node`, `0 <= i < degree(node)`. */
  neighbor(node: number, i: number): number {
    return this.lengths[node] === 1 ? this.offsets[node]! : this.pool[this.offsets[node]! + i]!;
  }

  /** Whether `to` is a neighbour of `from` (linear in the degree of `from`). */
  has(from: number, to: number): boolean {
    const n = this.degree(from);
    if (n === 0) return false;
    if (n === 1) return this.offsets[from] === to;
    const pool = this.pool;
    const start = this.offsets[from]!;
    for (let i = start, end = start + n; i < end; i++) if (pool[i] === to) return true;
    return false;
  }

  /** Total number of edges stored. */
  get size(): number {
    return this.edges;
  }

  /** Number of node slots allocated (an upper bound on node numbers with neighbours). */
  get nodeCapacity(): number {
    return this.lengths.length;
  }

  /** Appends `to` to `from`'s list. The caller guarantees it is not already there. */
  add(from: number, to: number): void {
    this.ensureNode(from);
    const n = this.lengths[from]!;
    if (n === 0) {
      this.offsets[from] = to;
    } else if (n === 1) {
      const at = this.allocate(2);
      this.pool[at] = this.offsets[from]!;
      this.pool[at + 1] = to;
      this.offsets[from] = at;
    } else {
      let at = this.offsets[from]!;
      if (n === capacityFor(n)) {
        const moved = this.allocate(capacityFor(n + 1));
        // allocate() may have compacted the pool and moved this very list.
        at = this.offsets[from]!;
        this.pool.copyWithin(moved, at, at + n);
        this.garbage += capacityFor(n);
        this.offsets[from] = moved;
        at = moved;
      }
      this.pool[at + n] = to;
    }
    this.lengths[from] = n + 1;
    this.edges++;
  }

  /** Removes `to` from `from`'s list; returns whether it was there. */
  remove(from: number, to: number): boolean {
    const n = this.degree(from);
    if (n === 0) return false;
    if (n === 1) {
      if (this.offsets[from] !== to) return false;
      this.lengths[from] = 0;
      this.edges--;
      return true;
    }
    const start = this.offsets[from]!;
    const pool = this.pool;
    let i = start;
    const end = start + n;
    while (i < end && pool[i] !== to) i++;
    if (i === end) return false;
    pool[i] = pool[end - 1]!;
    if (n === 2) {
      this.offsets[from] = pool[start]!;
      this.garbage += 2;
    }
    this.lengths[from] = n - 1;
    this.edges--;
    return true;
  }

  /** Bytes held by the typed arrays (for memory accounting in benchmarks and metrics). */
  get byteLength(): number {
    return this.lengths.byteLength + this.offsets.byteLength + this.pool.byteLength;
  }

  private ensureNode(node: number): void {
    if (node < this.lengths.length) return;
    let size = this.lengths.length * 2;
    while (size <= node) size *= 2;
    const lengths = new Int32Array(size);
    lengths.set(this.lengths);
    const offsets = new Int32Array(size);
    offsets.set(this.offsets);
    this.lengths = lengths;
    this.offsets = offsets;
  }

  /** Reserves `count` pool slots and returns the first; compacts or grows the pool as needed. */
  private allocate(count: number): number {
    if (this.top + count > this.pool.length) {
      if (this.garbage > this.top / 2) this.compact();
      if (this.top + count > this.pool.length) {
        let size = this.pool.length * 2;
        while (size < this.top + count) size *= 2;
        const pool = new Int32Array(size);
        pool.set(this.pool.subarray(0, this.top));
        this.pool = pool;
      }
    }
    const at = this.top;
    this.top += count;
    return at;
  }

  /** Rewrites every pooled list contiguously, dropping the space abandoned by moves. */
  private compact(): void {
    const old = this.pool;
    const pool = new Int32Array(old.length);
    let top = 0;
    for (let node = 0; node < this.lengths.length; node++) {
      const n = this.lengths[node]!;
      if (n < 2) continue;
      const start = this.offsets[node]!;
      pool.set(old.subarray(start, start + n), top);
      this.offsets[node] = top;
      top += capacityFor(n);
    }
    this.pool = pool;
    this.top = top;
    this.garbage = 0;
  }
}
