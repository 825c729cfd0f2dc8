// A virtual clock for code that reads the time and sleeps: time moves only when every task is
// waiting on a timer, so measured durations are exact whatever the machine's load.
import { setImmediate as turn } from 'node:timers/promises';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

export class VirtualClock {
  private time = 0;
  private seq = 0;
  private readonly timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((fire) => {
      this.timers.push({ at: this.time + Math.max(0, ms), seq: this.seq++, fire });
    });
  }

  /** Runs `task` to completion, advancing time to the next timer whenever all work is waiting. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    let done = false;
    const result = task().finally(() => {
      done = true;
    });
    result.catch(() => undefined);
    while (!done) {
      // Let every pending promise continuation run before time moves.
      await turn();
      if (done) break;
      if (this.timers.length === 0)
        throw new Error('virtual clock: the task waits on something other than a timer');
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      this.time = next.at;
      next.fire();
    }
    return result;
  }
}
