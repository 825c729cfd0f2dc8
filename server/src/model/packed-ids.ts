// The ids of one type as a graph snapshot stores them: UTF-8 bytes joined by '\n', numbered in
// order. A replica that starts from a snapshot keeps them this way instead of splitting them into
// one heap string per id: 9-10 bytes per short id instead of ~24, no million-object heap for the
// collector to mark, and no split at start-up. An id becomes a string only when asked for
// (answers that name objects), and stays cached from then on.

const NEWLINE = 0x0a;

export class PackedIds {
  readonly #bytes: Buffer;
  /** Byte offset where id n starts; id n ends one byte before `starts[n + 1]` (count + 1 entries). */
  readonly #starts: Int32Array;
  /** Whether every byte is below 0x80: ids then decode as Latin-1 and compare byte per char. */
  readonly #ascii: boolean;
  /** Decoded ids, filled on demand (created on first use: most replicas never name most ids). */
  #decoded: (string | undefined)[] | undefined;

  private constructor(bytes: Buffer, starts: Int32Array, ascii: boolean) {
    this.#bytes = bytes;
    this.#starts = starts;
    this.#ascii = ascii;
  }

  /**
   * Takes `count` ids out of `bytes` (joined by '\n'; kept as they are, not copied). Throws
   * RangeError when the bytes do not hold exactly `count` ids.
   */
  static fromJoined(bytes: Uint8Array, count: number): PackedIds {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`id count ${count} is not valid`);
    const starts = new Int32Array(count + 1);
    if (count === 0) {
      if (bytes.length !== 0) throw new RangeError('0 ids expected, found bytes');
      return new PackedIds(Buffer.alloc(0), starts, true);
    }
    let n = 1;
    let high = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      high |= b;
      if (b !== NEWLINE) continue;
      if (n >= count) throw new RangeError(`more than ${count} ids`);
      starts[n++] = i + 1;
    }
    if (n !== count) throw new RangeError(`${n} ids, expected ${count}`);
    starts[count] = bytes.length + 1;
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new PackedIds(buffer, starts, (high & 0x80) === 0);
  }

  get count(): number {
    return this.#starts.length - 1;
  }

  /** Bytes held (the id bytes and their offsets; decoded strings not counted). */
  get byteLength(): number {
    return this.#bytes.byteLength + this.#starts.byteLength;
  }

  /** The ids' bytes, joined by '\n' as they were given (a view: do not mutate). */
  get joined(): Uint8Array {
    return this.#bytes;
  }

  /** The id numbered `n`, `0 <= n < count`. */
  id(n: number): string {
    let decoded = this.#decoded;
    if (decoded === undefined) {
      // A packed array of holes-free `undefined` (new Array(n) would be a slow dictionary past 100k).
      decoded = [];
      for (let i = 0; i < this.count; i++) decoded.push(undefined);
      this.#decoded = decoded;
    }
    let s = decoded[n];
    if (s === undefined) {
      const start = this.#starts[n]!;
      const end = this.#starts[n + 1]! - 1;
      s = this.#bytes.toString(this.#ascii ? 'latin1' : 'utf8', start, end);
      decoded[n] = s;
    }
    return s;
  }

  /** Whether id `n` is `id`, without decoding it when the ids are ASCII. */
  equals(n: number, id: string): boolean {
    const cached = this.#decoded?.[n];
    if (cached !== undefined) return cached === id;
    if (!this.#ascii) return this.id(n) === id;
    const start = this.#starts[n]!;
    const length = this.#starts[n + 1]! - 1 - start;
    if (length !== id.length) return false;
    const bytes = this.#bytes;
    for (let i = 0; i < length; i++) if (bytes[start + i] !== id.charCodeAt(i)) return false;
    return true;
  }
}
