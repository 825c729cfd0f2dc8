// Interned strings with reference counts: the memory store keeps each relation name once and
// refers to it by a small integer (types and ids are numbered by the ObjectIds it shares with the
// graph). A string is forgotten (and its number reused) once nothing refers to it, so churn
// through short-lived names does not grow the pool forever.

/** V8 shares the parent of a substring this long or longer instead of copying it. */
const SLICE_MIN_LENGTH = 13;

/**
 * A copy that owns its characters. A string sliced out of a large input (a policy file, a
 * request body) would otherwise keep that whole input alive for as long as the pool holds it.
 */
function ownCopy(s: string): string {
  return s.length < SLICE_MIN_LENGTH ? s : (JSON.parse(JSON.stringify(s)) as string);
}

export class StringPool {
  private readonly ids = new Map<string, number>();
  private strings: (string | undefined)[] = [];
  private refs = new Int32Array(256);
  /** Numbers of forgotten strings, reused before new ones are handed out. */
  private readonly free: number[] = [];
  /** Bumped whenever a string is forgotten: numbers remembered before then may be stale. */
  generation = 0;

  /** One more than the highest number handed out: numbers are below it. */
  get limit(): number {
    return this.strings.length;
  }

  /** How many distinct strings are held. */
  get size(): number {
    return this.ids.size;
  }

  /** The number of `s`, or -1 if it is not held: for lookups that must not intern. */
  idOf(s: string): number {
    return this.ids.get(s) ?? -1;
  }

  /** The string numbered `id`; `id` must be held. */
  get(id: number): string {
    return this.strings[id] as string;
  }

  /** The number of `s`, interning it if needed, with one more reference. */
  acquire(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.free.pop() ?? this.strings.length;
      const own = ownCopy(s);
      if (id === this.strings.length) this.strings.push(own);
      else this.strings[id] = own;
      if (id >= this.refs.length) {
        const grown = new Int32Array(this.refs.length * 2);
        grown.set(this.refs);
        this.refs = grown;
      }
      this.ids.set(own, id);
    }
    this.refs[id] = (this.refs[id] as number) + 1;
    return id;
  }

  /** One more reference to a held string. */
  retain(id: number): void {
    this.refs[id] = (this.refs[id] as number) + 1;
  }

  /** One reference fewer; the string is forgotten when none is left. */
  release(id: number): void {
    const left = (this.refs[id] as number) - 1;
    this.refs[id] = left;
    if (left > 0) return;
    this.ids.delete(this.strings[id] as string);
    this.strings[id] = undefined;
    this.free.push(id);
    this.generation++;
  }
}
