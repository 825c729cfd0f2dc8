// Bulk files are split into lines by lineBatches instead of readline: the same lines (so the same
// file:line positions in errors) for every mix of '\n', '\r\n' and lone '\r', however the text is
// cut into chunks.

import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineBatches } from '../../server/src/policy/line-batches.js';

async function viaReadline(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  const lines = createInterface({ input: Readable.from(chunks), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) out.push(line);
  return out;
}

async function viaBatches(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of lineBatches(Readable.from(chunks))) out.push(...batch);
  return out;
}

/** `text` cut at `cuts` (positions, any order, repeats allowed: empty chunks). */
function cut(text: string, cuts: number[]): string[] {
  const at = cuts.map((c) => c % (text.length + 1)).sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const c of at) {
    chunks.push(text.slice(from, c));
    from = c;
  }
  chunks.push(text.slice(from));
  return chunks;
}

describe('lineBatches', () => {
  it('yields the lines readline yields, however the text is chunked', async () => {
    const text = fc
      .array(fc.constantFrom('a', 'bc', '\n', '\r', '\r\n', ' ', 'é'), { maxLength: 30 })
      .map((p) => p.join(''));
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(40), { maxLength: 6 }), async (t, cuts) => {
        const chunks = cut(t, cuts).filter((c) => c !== '');
        expect(await viaBatches(chunks)).toEqual(await viaReadline(chunks));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a CRLF split across two chunks as one break', async () => {
    expect(await viaBatches(['a\r', '\nb\r', '', '\n', 'c'])).toEqual(['a', 'b', 'c']);
    expect(await viaBatches(['a\r', 'b'])).toEqual(['a', 'b']);
  });
});
