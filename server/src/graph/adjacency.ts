// One direction of an edge set: for each node number, its neighbour numbers, packed into
// typed arrays so millions of edges cost a few bytes each and create no per-node objects.

const INITIAL_NODES = 16;
const INITIAL_POOL = 64;

/** Slots reserved in the pool for a list of `length` > 1 entries: the next power of two. */
function capacityFor(length: number): number {
  return length <= 2 ? 2 : 1 << (32 - Math.clz32(length - 1));
}

/**
 * Neighbour lists indexed by node number. A node of degree 1 keeps its neighbour inline in its
 * slot (most objects have exactly one owner, one parent…); larger lists live in a shared
 * Int32Array pool with power-of-two capacity and move to the end when they outgrow it. Space
 * left behind is reclaimed by compaction once it exceeds the live part. Neighbour order is not
 * meaningful: removal swaps the last neighbour into the hole.
 */
export class Adjacency {
  // Per node, [length, offset-or-inline-neighbour] side by side: one cache line serves both.
  private slots = new Int32Array(2 * INITIAL_NODES);
  private pool = new Int32Array(INITIAL_POOL);
  private top = 0;
  private garbage = 0;
  private edges = 0;

  /** Number of neighbours of `node` (0 for nodes never seen). */
  degree(node: number): number {
    return node >= 0 && 2 * node < this.slots.length ? this.slots[2 * node]! : 0;
  }

  /** The `i`-th neighbour of `node`, `0 <= i < degree(node)`. */
  neighbor(node: number, i: number): number {
    const at = 2 * node;
    return this.slots[at] === 1 ? this.slots[at + 1]! : this.pool[this.slots[at + 1]! + i]!;
  }

  /** Whether `to` is a neighbour of `from` (linear in the degree of `from`). */
  has(from: number, to: number): boolean {
    const n = this.degree(from);
    if (n === 0) return false;
    if (n === 1) return this.slots[2 * from + 1] === to;
    const pool = this.pool;
    const start = this.slots[2 * from + 1]!;
    for (let i = start, end = start + n; i < end; i++) if (pool[i] === to) return true;
    return false;
  }

  /** Total number of edges stored. */
  get size(): number {
    return this.edges;
  }

  /** Number of node slots allocated (an upper bound on node numbers with neighbours). */
  get nodeCapacity(): number {
    return this.slots.length / 2;
  }

  /** Appends `to` to `from`'s list. The caller guarantees it is not already there. */
  add(from: number, to: number): void {
    this.ensureNode(from);
    const n = this.slots[2 * from]!;
    if (n === 0) {
      this.slots[2 * from + 1] = to;
    } else if (n === 1) {
      const at = this.allocate(2);
      this.pool[at] = this.slots[2 * from + 1]!;
      this.pool[at + 1] = to;
      this.slots[2 * from + 1] = at;
    } else {
      let at = this.slots[2 * from + 1]!;
      if (n === capacityFor(n)) {
        const moved = this.allocate(capacityFor(n + 1));
        // allocate() may have compacted the pool and moved this very list.
        at = this.slots[2 * from + 1]!;
        this.pool.copyWithin(moved, at, at + n);
        this.garbage += capacityFor(n);
        this.slots[2 * from + 1] = moved;
        at = moved;
      }
      this.pool[at + n] = to;
    }
    this.slots[2 * from] = n + 1;
    this.edges++;
  }

  /** Removes `to` from `from`'s list; returns whether it was there. */
  remove(from: number, to: number): boolean {
    const n = this.degree(from);
    if (n === 0) return false;
    if (n === 1) {
      if (this.slots[2 * from + 1] !== to) return false;
      this.slots[2 * from] = 0;
      this.edges--;
      return true;
    }
    const start = this.slots[2 * from + 1]!;
    const pool = this.pool;
    let i = start;
    const end = start + n;
    while (i < end && pool[i] !== to) i++;
    if (i === end) return false;
    pool[i] = pool[end - 1]!;
    if (n === 2) {
      this.slots[2 * from + 1] = pool[start]!;
      this.garbage += 2;
    }
    this.slots[2 * from] = n - 1;
    this.edges--;
    return true;
  }

  /** Bytes held by the typed arrays (for memory accounting in benchmarks and metrics). */
  get byteLength(): number {
    return this.slots.byteLength + this.pool.byteLength;
  }

  private ensureNode(node: number): void {
    if (2 * node < this.slots.length) return;
    let size = this.slots.length * 2;
    while (size <= 2 * node) size *= 2;
    const slots = new Int32Array(size);
    slots.set(this.slots);
    this.slots = slots;
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
    for (let node = 0; 2 * node < this.slots.length; node++) {
      const n = this.slots[2 * node]!;
      if (n < 2) continue;
      const start = this.slots[2 * node + 1]!;
      pool.set(old.subarray(start, start + n), top);
      this.slots[2 * node + 1] = top;
      top += capacityFor(n);
    }
    this.pool = pool;
    this.top = top;
    this.garbage = 0;
  }
}
