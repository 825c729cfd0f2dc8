// The sub-millisecond wall clock follows the monotonic clock within the system clock's current
// millisecond, and re-anchors when the two part (NTP stepping the system clock, or slow drift).
import { expect, it } from 'vitest';
import { preciseWallClock } from './wall-clock.js';

it('adds sub-millisecond steps and stays inside the system clock millisecond', () => {
  let coarse = 1_000_000;
  let mono = 0;
  const clock = preciseWallClock(
    () => coarse,
    () => mono,
  );
  // The anchor (the process's start) is far from this fake clock: the first reading re-anchors.
  const first = clock();
  expect(first).toBe(coarse);
  mono += 0.25;
  expect(clock() - first).toBeCloseTo(0.25, 9);
  // The system clock jumps ahead by a minute: the reading follows it at once.
  coarse += 60_000;
  const jumped = clock();
  expect(jumped).toBeGreaterThanOrEqual(coarse);
  expect(jumped).toBeLessThan(coarse + 1);
  // And back: a reading never leaves [Date.now(), Date.now() + 1).
  coarse -= 120_000;
  mono += 0.1;
  const back = clock();
  expect(back).toBeGreaterThanOrEqual(coarse);
  expect(back).toBeLessThan(coarse + 1);
  // Once re-anchored it measures fine steps again…
  mono += 0.5;
  expect(clock() - back).toBeCloseTo(0.5, 9);
  // …across the system clock's next tick too.
  coarse += 1;
  mono += 0.6;
  expect(clock() - back).toBeCloseTo(1.1, 9);
  // A tick that comes before the monotonic reading reaches it pulls the reading up onto it.
  coarse += 1;
  mono += 0.2;
  expect(clock()).toBe(coarse);
});

it('reads the real clocks by default, within a millisecond of Date.now()', () => {
  const clock = preciseWallClock();
  for (let i = 0; i < 1000; i++) {
    const before = Date.now();
    const t = clock();
    const after = Date.now();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThan(after + 1);
  }
});
