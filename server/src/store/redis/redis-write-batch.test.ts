import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../errors.js';
import { type BatchResult, WriteBatcher } from './redis-write-batch.js';

type Args = readonly (string | number)[];

/** A batcher whose sends are recorded and answered by hand. */
function harness(limits = { maxWrites: 64, maxChars: 1000, maxInFlight: 1 }) {
  const sent: {
    epoch: string;
    writes: readonly Args[];
    answer: (r: BatchResult<string>) => void;
    fail: (e: unknown) => void;
  }[] = [];
  const batcher = new WriteBatcher<string>(
    (epoch, writes) =>
      new Promise((answer, fail) => {
        sent.push({ epoch, writes, answer, fail });
      }),
    limits,
  );
  return { batcher, sent };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WriteBatcher', () => {
  it('sends the writes of one event-loop turn as one batch and answers each with its own reply', async () => {
    const { batcher, sent } = harness();
    const a = batcher.submit('e1', ['a']);
    const b = batcher.submit('e1', ['b', 1]);
    await turn();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.writes).toEqual([['a'], ['b', 1]]);
    sent[0]?.answer({ replies: ['ra', 'rb'], acknowledged: 2 });
    expect(await a).toEqual({ reply: 'ra', acknowledged: 2 });
    expect(await b).toEqual({ reply: 'rb', acknowledged: 2 });
  });

  it('queues writes while a batch is in flight and sends them together when it returns', async () => {
    const { batcher, sent } = harness();
    const first = batcher.submit('e1', ['1']);
    await turn();
    const later = [batcher.submit('e1', ['2']), batcher.submit('e1', ['3'])];
    await turn();
    expect(sent).toHaveLength(1);
    expect(batcher.pending).toBe(3);
    sent[0]?.answer({ replies: ['r1'] });
    await first;
    await turn(); // the call returned in this turn; the next leaves at its end
    await turn();
    expect(sent).toHaveLength(2);
    expect(sent[1]?.writes).toEqual([['2'], ['3']]);
    sent[1]?.answer({ replies: ['r2', 'r3'] });
    expect((await Promise.all(later)).map((o) => o.reply)).toEqual(['r2', 'r3']);
    expect(batcher.pending).toBe(0);
  });

  it('keeps epochs apart and respects the write and size limits', async () => {
    const { batcher, sent } = harness({ maxWrites: 2, maxChars: 6, maxInFlight: 8 });
    const all = [
      batcher.submit('e1', ['a']),
      batcher.submit('e1', ['b']),
      batcher.submit('e1', ['c']),
      batcher.submit('e2', ['d', 'dd']),
      batcher.submit('e2', ['long', 'long']),
      batcher.submit('e2', ['toolong']),
    ];
    for (let i = 0; i < 5; i++) await turn();
    expect(sent.map((s) => [s.epoch, s.writes.map((w) => w.join(''))])).toEqual([
      ['e1', ['a', 'b']],
      ['e1', ['c']],
      ['e2', ['ddd']], // 3 characters, and the next write's 8 would pass 6
      ['e2', ['longlong']], // over the limit alone: sent alone
      ['e2', ['toolong']],
    ]);
    for (const s of sent) s.answer({ replies: s.writes.map((w) => String(w[0])) });
    expect((await Promise.all(all)).map((o) => o.reply)).toEqual(['a', 'b', 'c', 'd', 'long', 'toolong']);
  });

  it('sends one call per event-loop turn, so Redis answers the first before it reads the next', async () => {
    // Two calls written at once reach Redis together, and it answers both only after running
    // both: the caller waits for the pair, and Redis for the caller, in lockstep.
    const { batcher, sent } = harness({ maxWrites: 64, maxChars: 10, maxInFlight: 2 });
    const big = ['0123456789', 'abcdefghij', 'ABCDEFGHIJ'].map((w) => batcher.submit('e1', [w]));
    await turn();
    expect(sent.map((s) => s.writes)).toEqual([[['0123456789']]]);
    await turn();
    expect(sent.map((s) => s.writes)).toEqual([[['0123456789']], [['abcdefghij']]]);
    // Two in flight: the third waits for a call to return.
    await turn();
    expect(sent).toHaveLength(2);
    expect(batcher.pending).toBe(3);
    sent[0]?.answer({ replies: ['r0'] });
    expect((await big[0])?.reply).toBe('r0');
    await turn();
    await turn();
    expect(sent.map((s) => s.writes[0]?.[0])).toEqual(['0123456789', 'abcdefghij', 'ABCDEFGHIJ']);
    sent[1]?.answer({ replies: ['r1'] });
    sent[2]?.answer({ replies: ['r2'] });
    expect((await Promise.all(big)).map((o) => o.reply)).toEqual(['r0', 'r1', 'r2']);
  });

  it('sends the successors of two calls answered in the same turn in two turns, not together', async () => {
    const { batcher, sent } = harness({ maxWrites: 64, maxChars: 10, maxInFlight: 2 });
    const all = ['0123456789', 'abcdefghij', 'ABCDEFGHIJ', 'KLMNOPQRST'].map((w) =>
      batcher.submit('e1', [w]),
    );
    await turn();
    await turn();
    expect(sent).toHaveLength(2);
    sent[0]?.answer({ replies: ['r0'] });
    sent[1]?.answer({ replies: ['r1'] });
    await Promise.all(all.slice(0, 2));
    // Calls sent, counted after each turn: one of those turns ends with the third alone.
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      await turn();
      counts.push(sent.length);
    }
    expect(counts).toContain(3);
    expect(sent).toHaveLength(4);
    sent[2]?.answer({ replies: ['r2'] });
    sent[3]?.answer({ replies: ['r3'] });
    expect((await Promise.all(all)).map((o) => o.reply)).toEqual(['r0', 'r1', 'r2', 'r3']);
  });

  it('fails every write of a batch whose call failed, and a write the batch did not answer', async () => {
    const { batcher, sent } = harness();
    const a = batcher.submit('e1', ['a']);
    const b = batcher.submit('e1', ['b']);
    await turn();
    sent[0]?.fail(new UnavailableError('gone'));
    await expect(a).rejects.toThrow('gone');
    await expect(b).rejects.toThrow('gone');
    const c = batcher.submit('e1', ['c']);
    const d = batcher.submit('e1', ['d']);
    await turn();
    sent[1]?.answer({ replies: ['rc'] });
    expect((await c).reply).toBe('rc');
    await expect(d).rejects.toBeInstanceOf(UnavailableError);
  });
});
