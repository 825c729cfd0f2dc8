// IdInterner against a Map model: dense numbering in first-seen order, stable numbers,
// exact lookups (including hash collisions and growth past many table sizes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdInterner, NOT_INTERNED } from './interner.js';

/** Interns `ids` and answers lookups exactly like a Map numbering ids in first-seen order. */
function agreesWithMap(ids: readonly string[], probes: readonly string[]): void {
  const interner = new IdInterner();
  const model = new Map<string, number>();
  for (const id of ids) {
    if (!model.has(id)) model.set(id, model.size);
    expect(interner.intern(id)).toBe(model.get(id));
  }
  expect(interner.size).toBe(model.size);
  for (const [id, n] of model) {
    expect(interner.lookup(id)).toBe(n);
    expect(interner.id(n)).toBe(id);
  }
  for (const p of probes) expect(interner.lookup(p)).toBe(model.get(p) ?? NOT_INTERNED);
}

describe('IdInterner', () => {
  it('numbers ids densely in first-seen order and answers lookups exactly like a Map', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 600 }),
        fc.array(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 100 }),
        agreesWithMap,
      ),
      { numRuns: 200 },
    );
  });

  it('keeps every number stable while growing through many table sizes', () => {
    const interner = new IdInterner();
    const count = 70_000;
    for (let i = 0; i < count; i++) expect(interner.intern(`d${i}`)).toBe(i);
    for (let i = 0; i < count; i += 997) expect(interner.lookup(`d${i}`)).toBe(i);
    expect(interner.lookup('d70000')).toBe(NOT_INTERNED);
    expect(interner.intern('d123')).toBe(123);
    expect(interner.size).toBe(count);
  });

  it('tells apart ids whose hashes collide', () => {
    // Linear probing must compare the ids themselves, not only the slot: take two distinct ids
    // whose hashes land in the same slot of the initial 256-slot table.
    let other = '';
    for (let i = 0; other === ''; i++) if (sameSlot('alpha', `x${i}`)) other = `x${i}`;
    const interner = new IdInterner();
    const a = interner.intern('alpha');
    const b = interner.intern(other);
    expect(b).not.toBe(a);
    expect(interner.lookup('alpha')).toBe(a);
    expect(interner.lookup(other)).toBe(b);
    expect(interner.lookup(`${other}y`)).toBe(NOT_INTERNED);
  });
});

function fnv(id: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h | 0;
}

function sameSlot(a: string, b: string): boolean {
  return (fnv(a) & 255) === (fnv(b) & 255);
}

describe('IdInterner key forms', () => {
  it('keeps inline, out-of-line and non-Latin-1 ids apart, including prefixes and NULs', () => {
    // Lengths around the inline limit (11), characters above 0xff, and ids that differ only in
    // length or a trailing NUL: each must get its own number and be found again exactly.
    const ids = [
      '',
      'a',
      'a\0',
      '\0',
      'abcdefghijk',
      'abcdefghijkl',
      'abcdefghij',
      'ÿÿÿÿÿÿÿÿÿÿÿ',
      'ā',
      'aā',
      '0123456789abcdef0123456789abcdef0123',
      '0123456789abcdef0123456789abcdef0124',
      '\u{1F600}',
    ];
    const interner = new IdInterner();
    for (const [n, id] of ids.entries()) expect(interner.intern(id)).toBe(n);
    for (let i = 0; i < 2_000; i++) interner.intern(`filler-${i}-${'x'.repeat(i % 20)}`);
    ids.forEach((id, n) => {
      expect(interner.lookup(id)).toBe(n);
      expect(interner.id(n)).toBe(id);
    });
    expect(interner.lookup('abcdefghijklm')).toBe(NOT_INTERNED);
    expect(interner.lookup('ab')).toBe(NOT_INTERNED);
    expect(interner.lookup('\0\0')).toBe(NOT_INTERNED);
  });

  it('agrees with a Map on arbitrary unicode ids of any length', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 300 }),
        fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 50 }),
        agreesWithMap,
      ),
      { numRuns: 200 },
    );
  });
});
