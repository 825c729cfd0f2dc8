// The writes of one RedisStore instance that are on their way: sent to Redis (or about to be),
// and not yet in the instance's mirror. A write planned now, on a mirror without one of them,
// would be refused at commit if that write stamps a field it reads (Redis checks every field a
// plan read against the stamps since its revision); so it is planned once that write landed,
// which saves Redis a refused commit and the write a round trip.

/** A write on its way, as the set holds it. */
interface OnTheWay {
  /** Its updates' relationship fields (empty for a delete by filter). */
  readonly own: ReadonlySet<string>;
  /** The other fields it stamps: object and type fields, and its relationships' own fields when `own` is empty. */
  readonly stamps: readonly string[];
  /** `stamps` as a set, built the first time a read may be among them. */
  stampSet: Set<string> | undefined;
  readonly landed: Promise<void>;
}

/**
 * Whether `w` stamps one of `fields`, the first `ownCount` of them relationships' own fields.
 * Those can be among its stamps only when it is a delete by filter: a write of updates (the
 * common case, and every write of a bulk load) is checked with one lookup per field, and builds
 * no set of its stamps.
 */
function stampsAny(w: OnTheWay, fields: readonly string[], ownCount: number): boolean {
  const relationshipsInStamps = w.own.size === 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as string;
    if (w.own.has(f)) return true;
    if (i < ownCount && !relationshipsInStamps) continue;
    w.stampSet ??= new Set(w.stamps);
    if (w.stampSet.has(f)) return true;
  }
  return false;
}

export class WritesOnTheWay {
  /** One entry per write, not per field: a batch of 1,000 relationships stamps ~2,000 fields. */
  readonly #writes = new Set<OnTheWay>();

  /**
   * Registers a write on its way: `own`, its updates' relationship fields (updateFields; none for
   * a delete by filter), and `stamps`, the other fields its changes stamp (objectFieldsChanged,
   * or fieldsChanged when `own` is empty). The returned function takes it off, once it is in the
   * mirror or did not commit.
   */
  add(own: ReadonlySet<string>, stamps: readonly string[]): () => void {
    let landed!: () => void;
    const done = new Promise<void>((resolve) => {
      landed = resolve;
    });
    const write: OnTheWay = { own, stamps, stampSet: undefined, landed: done };
    this.#writes.add(write);
    return () => {
      this.#writes.delete(write);
      landed();
    };
  }

  /**
   * Waits until no write on its way stamps one of `fields` (fieldsRead of a plan: the first
   * `ownCount` of them relationships' own fields); true if it waited.
   */
  async landedBefore(fields: readonly string[], ownCount: number): Promise<boolean> {
    let waited = false;
    for (;;) {
      const waits: Promise<void>[] = [];
      for (const w of this.#writes) {
        if (stampsAny(w, fields, ownCount)) waits.push(w.landed);
      }
      if (waits.length === 0) return waited;
      waited = true;
      await Promise.all(waits);
    }
  }

  /** Writes on their way now. */
  get size(): number {
    return this.#writes.size;
  }
}
