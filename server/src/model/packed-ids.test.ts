// Ids kept packed as a snapshot stored them: an interner restored from them answers exactly like
// the interner that wrote them, keeps numbering new ids after them, and writes them back alike.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdInterner, NOT_INTERNED } from './id-interner.js';
import { PackedIds } from './packed-ids.js';

/** Ids that survive UTF-8 (no lone surrogates) and hold no newline, as object ids do. */
const idArb = fc
  .string({ unit: 'binary', maxLength: 20 })
  .filter((s) => !s.includes('\n') && Buffer.from(s, 'utf8').toString('utf8') === s);

/** A copy of `interner` the way a snapshot decoder makes one: packed ids, the same slot table. */
function restoredCopy(interner: IdInterner): IdInterner {
  const copy = new IdInterner();
  const joined = Uint8Array.from(interner.joinedIds());
  copy.restore(PackedIds.fromJoined(joined, interner.size), Int32Array.from(interner.table));
  return copy;
}

describe('IdInterner restored from packed ids', () => {
  it('answers, numbers and writes ids exactly like the interner it was taken from', () => {
    fc.assert(
      fc.property(
        fc.array(idArb, { maxLength: 300 }),
        fc.array(idArb, { maxLength: 600 }),
        fc.array(idArb, { maxLength: 50 }),
        (before, after, probes) => {
          const original = new IdInterner();
          const model = new Map<string, number>();
          for (const id of before) {
            if (!model.has(id)) model.set(id, model.size);
            original.intern(id);
          }
          const restored = restoredCopy(original);
          // New ids after the restore (growing the table past its restored size).
          for (const id of after) {
            if (!model.has(id)) model.set(id, model.size);
            expect(restored.intern(id)).toBe(model.get(id));
            original.intern(id);
          }
          expect(restored.size).toBe(model.size);
          for (const [id, n] of model) {
            expect(restored.lookup(id)).toBe(n);
            expect(restored.id(n)).toBe(id);
          }
          for (const p of probes) expect(restored.lookup(p)).toBe(model.get(p) ?? NOT_INTERNED);
          expect(Buffer.from(restored.joinedIds())).toEqual(Buffer.from(original.joinedIds()));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('compares long ids against the packed bytes before and after decoding them', () => {
    const original = new IdInterner();
    const long = [
      '0123456789abcdef0123456789abcdef0123',
      '0123456789abcdef0123456789abcdef0124',
      'ümlaut-and-more-x',
    ];
    for (const id of long) original.intern(id);
    const restored = restoredCopy(original);
    expect(restored.lookup('0123456789abcdef0123456789abcdef0125')).toBe(NOT_INTERNED);
    expect(restored.lookup(long[1]!)).toBe(1);
    expect(restored.id(1)).toBe(long[1]);
    expect(restored.lookup(long[1]!)).toBe(1);
    expect(restored.lookup(long[2]!)).toBe(2);
  });

  it('refuses bytes that do not hold the stated number of ids', () => {
    const bytes = Buffer.from('a\nb\nc');
    expect(PackedIds.fromJoined(bytes, 3).id(2)).toBe('c');
    expect(() => PackedIds.fromJoined(bytes, 2)).toThrow(RangeError);
    expect(() => PackedIds.fromJoined(bytes, 4)).toThrow(RangeError);
    expect(() => PackedIds.fromJoined(bytes, 0)).toThrow(RangeError);
    expect(PackedIds.fromJoined(new Uint8Array(0), 0).count).toBe(0);
    // One empty id is one id of no bytes.
    expect(PackedIds.fromJoined(new Uint8Array(0), 1).id(0)).toBe('');
  });
});
