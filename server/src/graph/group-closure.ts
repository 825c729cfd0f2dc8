// The transitive closure of one self-nesting relation (`group.member: user or group#member`),
// kept incrementally so "is group A nested anywhere inside group B?" is one set lookup
// (the Zanzibar "Leopard" idea) instead of a walk down the group tree on every check.
import type { EdgeSet } from './edge-set.js';

/** Closure entries allowed before giving up: at least this many, or a multiple of the edges. */
const MIN_BUDGET = 1 << 20;
const BUDGET_PER_EDGE = 64;

/**
 * For an edge set `X#R@X:c#R` (c's members are members of the resource p: c is nested in p),
 * keeps for each group its ancestors (every group it is nested in, through any number of
 * edges; a group on a cycle is its own ancestor) and, symmetrically, its descendants.
 *
 * Adding an edge c→p makes every descendant of c (and c) nested in p and p's ancestors. Removing
 * one touches c and its descendants only (the groups whose paths may have used the edge): without
 * a cycle among them, each drops those of p and p's ancestors none of its remaining parents still
 * reaches; with one, their ancestors are recomputed by search. Both are exact.
 *
 * Deep chains make the closure quadratic (a 10k-long chain has 50M pairs), so past a budget the
 * closure switches itself off (`enabled` false) and the engine walks the edges instead, within
 * its depth limit. It tries again by itself once removals halve the edges (or on `rebuild()`).
 */
export class GroupClosure {
  private ancestorsOf: (Set<number> | undefined)[] = [];
  private descendantsOf: (Set<number> | undefined)[] = [];
  private pairs = 0;
  private on = true;
  /** True between suspend() and rebuild(): a bulk load is in progress, do not retry. */
  private suspended = false;
  /** Edge count when the budget was last exceeded. */
  private edgesWhenDisabled = 0;

  constructor(readonly edges: EdgeSet) {}

  /** False once the closure outgrew its budget; callers must then walk `edges`. */
  get enabled(): boolean {
    return this.on;
  }

  /** Number of (descendant, ancestor) pairs held. */
  get size(): number {
    return this.pairs;
  }

  /** Whether `node` is `ancestor` or nested in it. Only meaningful while enabled. */
  isSelfOrNestedIn(node: number, ancestor: number): boolean {
    return node === ancestor || (this.ancestorsOf[node]?.has(ancestor) ?? false);
  }

  /** The groups `node` is nested in, or undefined for none. Do not mutate. */
  ancestors(node: number): ReadonlySet<number> | undefined {
    return this.ancestorsOf[node];
  }

  /** The groups nested in `node`, or undefined for none. Do not mutate. */
  descendants(node: number): ReadonlySet<number> | undefined {
    return this.descendantsOf[node];
  }

  /** Call after the edge child→parent was added to `edges`. */
  edgeAdded(child: number, parent: number): void {
    if (!this.on) return;
    const up = [parent, ...(this.ancestorsOf[parent] ?? [])];
    const down = [child, ...(this.descendantsOf[child] ?? [])];
    const budget = this.budget();
    for (const d of down) {
      for (const a of up) {
        if (this.link(d, a) && this.pairs > budget) {
          this.disable();
          return;
        }
      }
    }
  }

  /** Call after the edge child→parent was removed from `edges`. */
  edgeRemoved(child: number, parent: number): void {
    if (!this.on) {
      // Once the nesting has shrunk to half of what overflowed the budget, try again.
      if (!this.suspended && this.edges.size * 2 <= this.edgesWhenDisabled) this.rebuild();
      return;
    }
    const affected = [child, ...(this.descendantsOf[child] ?? [])];
    const order = this.topologicalOrder(affected);
    if (order === undefined) this.recomputeAncestors(affected);
    else this.dropUnreachable(order, [parent, ...(this.ancestorsOf[parent] ?? [])]);
  }

  /**
   * Acyclic case: only `parent` and its ancestors can have been lost, and `parent`'s own
   * ancestors did not change. Visiting the affected groups parents-first, a group keeps a
   * candidate iff one of its remaining parents is that candidate or still has it.
   */
  private dropUnreachable(order: readonly number[], candidates: readonly number[]): void {
    const reverse = this.edges.reverse;
    for (const d of order) {
      const up = this.ancestorsOf[d];
      if (up === undefined) continue;
      for (const a of candidates) {
        if (!up.has(a)) continue;
        let kept = false;
        for (let i = 0, n = reverse.degree(d); i < n && !kept; i++) {
          const q = reverse.neighbor(d, i);
          kept = q === a || (this.ancestorsOf[q]?.has(a) ?? false);
        }
        if (kept) continue;
        up.delete(a);
        this.unlinkDescendant(a, d);
      }
      if (up.size === 0) this.ancestorsOf[d] = undefined;
    }
  }

  /** General case (the affected groups contain a cycle): recompute each one's ancestors. */
  private recomputeAncestors(affected: readonly number[]): void {
    for (const d of affected) {
      const before = this.ancestorsOf[d];
      if (before === undefined) continue;
      const after = this.reachableParents(d);
      for (const a of before) if (!after.has(a)) this.unlinkDescendant(a, d);
      this.ancestorsOf[d] = after.size === 0 ? undefined : after;
    }
  }

  private unlinkDescendant(a: number, d: number): void {
    const down = this.descendantsOf[a];
    down?.delete(d);
    if (down?.size === 0) this.descendantsOf[a] = undefined;
    this.pairs--;
  }

  /**
   * `nodes` ordered parents before children (Kahn), each once, or undefined if they contain a
   * cycle. `nodes` may name a group twice (a group on a cycle is among its own descendants): it
   * is taken as a set, since a repeated group counted twice could make a cycle look complete.
   */
  private topologicalOrder(nodes: readonly number[]): number[] | undefined {
    const inSet = new Set(nodes);
    const pending = new Map<number, number>();
    const reverse = this.edges.reverse;
    const forward = this.edges.forward;
    const ready: number[] = [];
    for (const d of inSet) {
      let count = 0;
      for (let i = 0, n = reverse.degree(d); i < n; i++) if (inSet.has(reverse.neighbor(d, i))) count++;
      pending.set(d, count);
      if (count === 0) ready.push(d);
    }
    const order: number[] = [];
    while (ready.length > 0) {
      const x = ready.pop()!;
      order.push(x);
      for (let i = 0, n = forward.degree(x); i < n; i++) {
        const c = forward.neighbor(x, i);
        const left = pending.get(c);
        if (left === undefined) continue;
        pending.set(c, left - 1);
        if (left === 1) ready.push(c);
      }
    }
    return order.length === inSet.size ? order : undefined;
  }

  /** The edge count when the closure last switched itself off (a snapshot stores it). */
  get edgesWhenOff(): number {
    return this.edgesWhenDisabled;
  }

  /**
   * Each group's ancestors as one run of words, `[group, n, n ancestors]…`, groups in number
   * order: what a snapshot stores (`restoreWords` takes it back).
   */
  exportWords(): Int32Array {
    let length = 0;
    for (const up of this.ancestorsOf) if (up !== undefined && up.size > 0) length += 2 + up.size;
    const words = new Int32Array(length);
    let at = 0;
    this.ancestorsOf.forEach((up, node) => {
      if (up === undefined || up.size === 0) return;
      words[at++] = node;
      words[at++] = up.size;
      for (const a of up) words[at++] = a;
    });
    return words;
  }

  /**
   * Takes back what `exportWords` gave (with the state's two flags), building the sets straight
   * from the words. Throws RangeError on words that overrun themselves or name a negative group.
   */
  restoreWords(enabled: boolean, edgesWhenDisabled: number, words: Int32Array): void {
    this.suspended = false;
    this.on = enabled;
    this.edgesWhenDisabled = edgesWhenDisabled;
    this.ancestorsOf = [];
    this.descendantsOf = [];
    this.pairs = 0;
    if (!enabled) return;
    for (let i = 0; i < words.length; ) {
      if (i + 2 > words.length) throw new RangeError('a closure entry overruns its section');
      const node = words[i]!;
      const n = words[i + 1]!;
      if (node < 0 || n < 0 || i + 2 + n > words.length)
        throw new RangeError('a closure entry overruns its section');
      i += 2;
      if (n === 0) continue;
      const up = new Set<number>();
      for (const end = i + n; i < end; i++) {
        const a = words[i]!;
        if (a < 0) throw new RangeError('a closure entry names a negative group');
        up.add(a);
        let down = this.descendantsOf[a];
        if (down === undefined) {
          down = new Set();
          this.descendantsOf[a] = down;
        }
        down.add(node);
      }
      this.ancestorsOf[node] = up;
      this.pairs += up.size;
    }
  }

  /** Recomputes the closure from `edges`, re-enabling it if it fits the budget. */
  rebuild(): void {
    this.suspended = false;
    this.ancestorsOf = [];
    this.descendantsOf = [];
    this.pairs = 0;
    this.on = true;
    const budget = this.budget();
    const reverse = this.edges.reverse;
    for (let node = 0; node < reverse.nodeCapacity; node++) {
      if (reverse.degree(node) === 0) continue;
      const up = this.reachableParents(node);
      this.ancestorsOf[node] = up;
      for (const a of up) {
        let down = this.descendantsOf[a];
        if (down === undefined) {
          down = new Set();
          this.descendantsOf[a] = down;
        }
        down.add(node);
      }
      this.pairs += up.size;
      if (this.pairs > budget) {
        this.disable();
        return;
      }
    }
  }

  /** Stops maintaining the closure (bulk loads call this, then `rebuild()`). */
  suspend(): void {
    this.disable();
    this.suspended = true;
  }

  private budget(): number {
    return Math.max(MIN_BUDGET, BUDGET_PER_EDGE * this.edges.size);
  }

  private disable(): void {
    this.on = false;
    this.edgesWhenDisabled = this.edges.size;
    this.ancestorsOf = [];
    this.descendantsOf = [];
    this.pairs = 0;
  }

  /** Records that `d` is nested in `a`; returns whether that is new. */
  private link(d: number, a: number): boolean {
    let up = this.ancestorsOf[d];
    if (up === undefined) {
      up = new Set();
      this.ancestorsOf[d] = up;
    }
    if (up.has(a)) return false;
    up.add(a);
    let down = this.descendantsOf[a];
    if (down === undefined) {
      down = new Set();
      this.descendantsOf[a] = down;
    }
    down.add(d);
    this.pairs++;
    return true;
  }

  /** Every group reachable from `node` by one or more parent edges (breadth first, no recursion). */
  private reachableParents(node: number): Set<number> {
    const reverse = this.edges.reverse;
    const seen = new Set<number>();
    const queue = [node];
    for (let head = 0; head < queue.length; head++) {
      const x = queue[head]!;
      for (let i = 0, n = reverse.degree(x); i < n; i++) {
        const p = reverse.neighbor(x, i);
        if (!seen.has(p)) {
          seen.add(p);
          queue.push(p);
        }
      }
    }
    return seen;
  }
}
