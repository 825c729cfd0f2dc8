import { describe, expect, it } from 'vitest';
import { BoundedQueue } from './bounded-queue.js';

const overflow = (item: number, max: number) => new Error(`item ${item} over ${max}`);

describe('BoundedQueue', () => {
  it('delivers in order, to a waiting consumer and from the buffer', async () => {
    const q = new BoundedQueue<number>(4, overflow);
    const waiting = q.next();
    q.push(1);
    q.push(2);
    q.push(3);
    expect(await waiting).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    expect(await q.next()).toEqual({ value: 3, done: false });
  });

  it('fails with the overflow error after what is buffered, and ends its producer once', async () => {
    let ended = 0;
    const q = new BoundedQueue<number>(2, overflow, undefined, () => ended++);
    q.push(1);
    q.push(2);
    q.push(3);
    q.push(4);
    expect(ended).toBe(1);
    expect(q.active).toBe(false);
    expect(await q.next()).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    await expect(q.next()).rejects.toThrow('item 3 over 2');
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('ends when its signal aborts, and starts ended on an aborted signal', async () => {
    const stop = new AbortController();
    let ended = 0;
    const q = new BoundedQueue<number>(2, overflow, stop.signal, () => ended++);
    const waiting = q.next();
    stop.abort();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(ended).toBe(1);
    const late = new BoundedQueue<number>(2, overflow, stop.signal, () => ended++);
    late.push(1);
    expect(await late.next()).toEqual({ value: undefined, done: true });
    expect(ended).toBe(1);
  });

  it('drops the buffer when the consumer returns, and a late onEnd setter still runs', async () => {
    let ended = 0;
    const q = new BoundedQueue<number>(8, overflow);
    q.onEnd = () => ended++;
    q.push(1);
    await q.return();
    expect(ended).toBe(1);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('stays in order across the bulk compaction of its consumed prefix', async () => {
    const q = new BoundedQueue<number>(5000, overflow);
    for (let i = 0; i < 3000; i++) q.push(i);
    for (let i = 0; i < 3000; i++) expect((await q.next()).value).toBe(i);
  });
});
