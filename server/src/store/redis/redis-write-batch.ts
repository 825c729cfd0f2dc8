// Group commit for RedisStore writes: writes issued while a script call is in flight (or in the
// same event-loop turn) go to Redis together as one call of the WRITE script, which applies each
// as its own atomic step with its own preconditions and revision, and answers each on its own.
// Sixteen concurrent writers then cost one round trip, one script call and one socket write
// instead of sixteen. A lone write waits only for the end of the current event-loop turn.
// Large writes are not grouped (maxChars) but pipelined: with two calls in flight, the next is
// on its way while Redis runs one. Calls leave one per event-loop turn: Redis answers calls that
// reach it together only once it has run them all, and two writes planned in one turn and sent
// together would hold the caller and Redis in lockstep, each idle while the other works (a bulk
// load at two in flight ran at about 150k relationships/s that way, 250k with a turn between).
import { UnavailableError } from '../../errors.js';

/** What one batch answered: a reply per write, in order, and WAIT's count when it was asked. */
export interface BatchResult<R> {
  readonly replies: readonly R[];
  readonly acknowledged?: number | undefined;
}

/** A write's outcome: its own reply, and how many Redis replicas acknowledged its batch. */
export interface WriteOutcome<R> {
  readonly reply: R;
  readonly acknowledged?: number | undefined;
}

/** Sends the writes (each a list of script args) of one epoch as one script call. */
export type SendBatch<R> = (
  epoch: string,
  writes: readonly (readonly (string | number)[])[],
) => Promise<BatchResult<R>>;

export interface WriteBatcherOptions {
  /** Most writes per script call. */
  readonly maxWrites: number;
  /**
   * Most characters of args per call (a larger write goes alone): bounds how long one call holds
   * Redis, and keeps large writes in calls of their own, so one is sent while Redis runs another
   * (group commit gains a large write nothing; pipelining gains it the overlap).
   */
  readonly maxChars: number;
  /** Script calls in flight at once; later writes wait and go in the next batch. */
  readonly maxInFlight: number;
}

interface Pending<R> {
  readonly epoch: string;
  readonly args: readonly (string | number)[];
  /** What the args weigh against maxChars. */
  readonly chars: number;
  readonly resolve: (outcome: WriteOutcome<R>) => void;
  readonly reject: (err: unknown) => void;
}

/** A write's weight: its strings' lengths, and a number's digits (at most 16). */
function charsOf(args: readonly (string | number)[]): number {
  let chars = 0;
  for (const a of args) chars += typeof a === 'string' ? a.length : 16;
  return chars;
}

export class WriteBatcher<R> {
  #queue: Pending<R>[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly send: SendBatch<R>,
    private readonly options: WriteBatcherOptions,
  ) {}

  /** Queues one write (its args, without the leading count) for the next batch of its epoch. */
  submit(epoch: string, args: readonly (string | number)[]): Promise<WriteOutcome<R>> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ epoch, args, chars: charsOf(args), resolve, reject });
      this.#schedule();
    });
  }

  /** Writes queued or in flight: for tests and metrics. */
  get pending(): number {
    return this.#queue.length + this.#inFlight;
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.options.maxInFlight) return;
    this.#scheduled = true;
    // The end of this turn: every write the turn's I/O callbacks issued joins the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  /** Sends one call, if one may go; the next goes in a later turn (see the top of this file). */
  #flush(): void {
    if (this.#queue.length > 0 && this.#inFlight < this.options.maxInFlight) {
      const batch = this.#take();
      this.#inFlight++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        // What queued meanwhile goes at the end of this turn, one call per turn as ever: two
        // calls answered in one read would otherwise send their successors together.
        this.#schedule();
      });
      if (this.#queue.length > 0) this.#schedule();
    }
  }

  /** The longest prefix of the queue that shares the first write's epoch and fits the limits. */
  #take(): Pending<R>[] {
    const first = this.#queue[0] as Pending<R>;
    let chars = 0;
    let n = 0;
    for (const p of this.#queue) {
      if (n === this.options.maxWrites || p.epoch !== first.epoch) break;
      if (n > 0 && chars + p.chars > this.options.maxChars) break;
      chars += p.chars;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #run(batch: Pending<R>[]): Promise<void> {
    const epoch = (batch[0] as Pending<R>).epoch;
    let result: BatchResult<R>;
    try {
      result = await this.send(
        epoch,
        batch.map((p) => p.args),
      );
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending<R>;
      const reply = result.replies[i];
      if (reply === undefined) {
        p.reject(
          new UnavailableError(
            `the Redis write batch answered ${result.replies.length} of ${batch.length} writes`,
          ),
        );
      } else {
        p.resolve({ reply, acknowledged: result.acknowledged });
      }
    }
  }
}
