// Neighbour lists indexed by node number, packed into typed arrays so millions of edges cost a
// few bytes each and create no per-node objects. The lists of several relations of one object
// type share a table, so all of one object's lists sit side by side in memory.

const INITIAL_NODES = 16;
const INITIAL_POOL = 64;

/** Slots reserved in the pool for a list of `length` > 1 entries: the next power of two. */
function capacityFor(length: number): number {
  return length <= 2 ? 2 : 1 << (32 - Math.clz32(length - 1));
}

/** Whether every list of the row at `at` is empty. */
function rowEmpty(slots: Int32Array, at: number, stride: number): boolean {
  for (let i = at; i < at + stride; i += 2) if (slots[i] !== 0) return false;
  return true;
}

/**
 * The storage behind one or more Adjacency columns: per node, one row of [length,
 * offset-or-inline-neighbour] pairs, a pair per column. A check on a document reads its owner,
 * its viewers and its org: with a row per document those are one cache line, where separate
 * arrays per relation cost a cache miss each on a graph larger than the caches.
 *
 * A list of one neighbour lives inline in its pair (most objects have exactly one owner, one
 * parent…); longer lists live in a shared Int32Array pool with power-of-two capacity and move to
 * the end when they outgrow it. Space left behind is reclaimed by compaction once it exceeds the
 * live part.
 */
export class AdjacencyTable {
  /** Int32 words per node row: two per column. */
  readonly stride: number;
  slots: Int32Array;
  pool = new Int32Array(INITIAL_POOL);
  private top = 0;
  garbage = 0;

  constructor(readonly columns: number) {
    if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`columns ${columns} must be >= 1`);
    this.stride = 2 * columns;
    this.slots = new Int32Array(this.stride * INITIAL_NODES);
  }

  /** The adjacency stored in column `c`. */
  column(c: number): Adjacency {
    if (!Number.isInteger(c) || c < 0 || c >= this.columns)
      throw new RangeError(`column ${c} is outside 0..${this.columns - 1}`);
    return new Adjacency(this, c);
  }

  /** Bytes held by the typed arrays (for memory accounting in benchmarks and metrics). */
  get byteLength(): number {
    return this.slots.byteLength + this.pool.byteLength;
  }

  /** Number of node rows allocated (an upper bound on node numbers with neighbours). */
  get nodeCapacity(): number {
    return this.slots.length / this.stride;
  }

  ensureNode(node: number): void {
    if (this.stride * (node + 1) <= this.slots.length) return;
    let size = this.slots.length * 2;
    while (size < this.stride * (node + 1)) size *= 2;
    const slots = new Int32Array(size);
    slots.set(this.slots);
    this.slots = slots;
  }

  /** Reserves `count` pool slots and returns the first; compacts or grows the pool as needed. */
  allocate(count: number): number {
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

  /**
   * Replaces the table's contents with `rows` rows of `slots` whose pooled lists sit packed
   * back to back in `packed` (each list exactly its length, the row's offset pointing into
   * `packed`), as a snapshot stores them: lists are laid out again with their usual capacity.
   */
  restore(slots: Int32Array, packed: Int32Array): void {
    if (slots.length % this.stride !== 0) throw new RangeError('slot count is not a whole number of rows');
    let rows = INITIAL_NODES;
    while (rows * this.stride < slots.length) rows *= 2;
    const restored = new Int32Array(rows * this.stride);
    restored.set(slots);
    let top = 0;
    for (let at = 0; at < slots.length; at += 2) {
      const n = slots[at]!;
      if (n < 0) throw new RangeError('negative list length');
      if (n >= 2) top += capacityFor(n);
    }
    const pool = new Int32Array(Math.max(INITIAL_POOL, top));
    top = 0;
    for (let at = 0; at < slots.length; at += 2) {
      const n = slots[at]!;
      if (n < 2) continue;
      const start = slots[at + 1]!;
      if (start < 0 || start + n > packed.length) throw new RangeError('list outside the packed pool');
      pool.set(packed.subarray(start, start + n), top);
      restored[at + 1] = top;
      top += capacityFor(n);
    }
    this.slots = restored;
    this.pool = pool;
    this.top = top;
    this.garbage = 0;
  }

  /**
   * The rows up to the last one holding a list, with pooled lists packed back to back (no
   * spare capacity, no garbage): what a snapshot stores. The table itself is not changed.
   */
  packed(): { slots: Int32Array; pool: Int32Array } {
    const src = this.slots;
    let end = src.length;
    while (end > 0 && rowEmpty(src, end - this.stride, this.stride)) end -= this.stride;
    const slots = src.slice(0, end);
    let size = 0;
    for (let at = 0; at < end; at += 2) if (slots[at]! >= 2) size += slots[at]!;
    const pool = new Int32Array(size);
    let top = 0;
    for (let at = 0; at < end; at += 2) {
      const n = slots[at]!;
      // An emptied list leaves its old neighbour or offset behind: zero it so equal graphs encode alike.
      if (n === 0) slots[at + 1] = 0;
      if (n < 2) continue;
      const start = slots[at + 1]!;
      pool.set(this.pool.subarray(start, start + n), top);
      slots[at + 1] = top;
      top += n;
    }
    return { slots, pool };
  }

  /** Rewrites every pooled list contiguously, dropping the space abandoned by moves. */
  private compact(): void {
    const old = this.pool;
    const pool = new Int32Array(old.length);
    const slots = this.slots;
    let top = 0;
    for (let at = 0; at < slots.length; at += 2) {
      const n = slots[at]!;
      if (n < 2) continue;
      const start = slots[at + 1]!;
      pool.set(old.subarray(start, start + n), top);
      slots[at + 1] = top;
      top += capacityFor(n);
    }
    this.pool = pool;
    this.top = top;
    this.garbage = 0;
  }
}

/**
 * One column of an AdjacencyTable: the neighbour lists of one relation's edges, by node.
 * Neighbour order is not meaningful: removal swaps the last neighbour into the hole.
 */
export class Adjacency {
  private readonly table: AdjacencyTable;
  /** Offset of this column's pair within a row. */
  private readonly offset: number;
  private edges = 0;

  /** A column of `table`, or a table of its own when none is given. */
  constructor(table?: AdjacencyTable, column = 0) {
    this.table = table ?? new AdjacencyTable(1);
    this.offset = 2 * column;
  }

  /** The table this column lives in (shared with the type's other columns). */
  get storage(): AdjacencyTable {
    return this.table;
  }

  /** Sets the edge count after the table was restored from a snapshot. */
  restoreSize(edges: number): void {
    this.edges = edges;
  }

  /** Number of neighbours of `node` (0 for nodes never seen). */
  degree(node: number): number {
    const slots = this.table.slots;
    const at = this.table.stride * node + this.offset;
    return node >= 0 && at < slots.length ? slots[at]! : 0;
  }

  /** The `i`-th neighbour of `node`, `0 <= i < degree(node)`. */
  neighbor(node: number, i: number): number {
    const slots = this.table.slots;
    const at = this.table.stride * node + this.offset;
    return slots[at] === 1 ? slots[at + 1]! : this.table.pool[slots[at + 1]! + i]!;
  }

  /** Whether `to` is a neighbour of `from` (linear in the degree of `from`). */
  has(from: number, to: number): boolean {
    const n = this.degree(from);
    if (n === 0) return false;
    const slots = this.table.slots;
    const at = this.table.stride * from + this.offset;
    if (n === 1) return slots[at + 1] === to;
    const pool = this.table.pool;
    const start = slots[at + 1]!;
    for (let i = start, end = start + n; i < end; i++) if (pool[i] === to) return true;
    return false;
  }

  /** Total number of edges stored. */
  get size(): number {
    return this.edges;
  }

  /** Number of node slots allocated (an upper bound on node numbers with neighbours). */
  get nodeCapacity(): number {
    return this.table.nodeCapacity;
  }

  /** Appends `to` to `from`'s list. The caller guarantees it is not already there. */
  add(from: number, to: number): void {
    const table = this.table;
    table.ensureNode(from);
    const at = table.stride * from + this.offset;
    const n = table.slots[at]!;
    if (n === 0) {
      table.slots[at + 1] = to;
    } else if (n === 1) {
      const start = table.allocate(2);
      table.pool[start] = table.slots[at + 1]!;
      table.pool[start + 1] = to;
      table.slots[at + 1] = start;
    } else {
      if (n === capacityFor(n)) {
        const moved = table.allocate(capacityFor(n + 1));
        // allocate() may have compacted the pool and moved this very list.
        const start = table.slots[at + 1]!;
        table.pool.copyWithin(moved, start, start + n);
        table.garbage += capacityFor(n);
        table.slots[at + 1] = moved;
      }
      table.pool[table.slots[at + 1]! + n] = to;
    }
    table.slots[at] = n + 1;
    this.edges++;
  }

  /** Removes `to` from `from`'s list; returns whether it was there. */
  remove(from: number, to: number): boolean {
    const n = this.degree(from);
    if (n === 0) return false;
    const table = this.table;
    const slots = table.slots;
    const at = table.stride * from + this.offset;
    if (n === 1) {
      if (slots[at + 1] !== to) return false;
      slots[at] = 0;
      this.edges--;
      return true;
    }
    const start = slots[at + 1]!;
    const pool = table.pool;
    let i = start;
    const end = start + n;
    while (i < end && pool[i] !== to) i++;
    if (i === end) return false;
    pool[i] = pool[end - 1]!;
    if (n === 2) {
      slots[at + 1] = pool[start]!;
      table.garbage += 2;
    }
    slots[at] = n - 1;
    this.edges--;
    return true;
  }

  /** Bytes held by the table's typed arrays (shared with the table's other columns). */
  get byteLength(): number {
    return this.table.byteLength;
  }
}
