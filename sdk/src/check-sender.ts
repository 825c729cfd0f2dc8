// Sends checks: alone as Check, or coalesced with the same turn's checks into CheckBatch calls.
import { type BatchEntry, MicroBatcher } from './batcher.js';
import { cancelledError, deadlineError, expired, guard } from './call.js';
import { InternalError } from './errors.js';
import { type RetryPolicy, withRetries } from './retry.js';
import type { Transport, TransportCallOptions, WireMessage } from './transport.js';
import type { CheckResult } from './types.js';
import {
  batchResultFromWire,
  consistencyToWire,
  decisionFromWire,
  type ResolvedConsistency,
  records,
  tokenFromWire,
} from './wire.js';

/** One check, validated and in wire form. */
export interface PendingCheck extends TransportCallOptions {
  /** `{resource, permission, subject}` in wire form. */
  readonly wire: WireMessage;
  readonly consistency: ResolvedConsistency;
  // `signal` cancels the RPC when the check travels alone; in a batch it ends only this caller's wait.
}

/**
 * Sends checks with read retries. With a batch size, checks of one event-loop turn and one
 * consistency share CheckBatch calls (a group of one goes as Check); without, each is a Check.
 */
export class CheckSender {
  readonly #transport: Transport;
  readonly #retry: RetryPolicy;
  readonly #batcher: MicroBatcher<PendingCheck, CheckResult> | undefined;

  constructor(transport: Transport, retry: RetryPolicy, maxBatchSize: number | undefined) {
    this.#transport = transport;
    this.#retry = retry;
    if (maxBatchSize !== undefined) {
      this.#batcher = new MicroBatcher((_key, entries) => this.#sendBatch(entries), maxBatchSize);
    }
  }

  /** Send the checks queued for the next batch now. */
  flush(): void {
    this.#batcher?.flush();
  }

  /** The answer to one check; in a batch its signal and deadline bound this caller's wait only. */
  check(check: PendingCheck): Promise<CheckResult> {
    if (this.#batcher === undefined) return this.#sendOne(check);
    // A caller that has already gone, or whose time is up, costs no queue slot and no RPC.
    if (check.signal?.aborted) return Promise.reject(cancelledError(check.signal));
    if (check.deadline !== undefined && expired(check.deadline)) {
      return Promise.reject(deadlineError(check.deadline));
    }
    const key = JSON.stringify(consistencyToWire(check.consistency));
    return guard(this.#batcher.add(key, check), check.deadline, check.signal);
  }

  async #sendOne(check: PendingCheck): Promise<CheckResult> {
    const { wire, consistency, ...options } = check;
    const { deadline, signal } = options;
    const request = { consistency: consistencyToWire(consistency), ...wire };
    const response = await withRetries(
      this.#retry,
      () => this.#transport.unary('Check', request, options),
      deadline,
      signal,
    );
    return {
      ...decisionFromWire(response.permissionship, response.missingContext),
      checkedAt: tokenFromWire(response.checkedAt),
    };
  }

  #sendBatch(queued: readonly BatchEntry<PendingCheck, CheckResult>[]): void {
    // Callers that aborted or ran out of time while queued stopped waiting already (see
    // guard): send only the rest.
    const entries: BatchEntry<PendingCheck, CheckResult>[] = [];
    for (const entry of queued) {
      const { signal, deadline } = entry.item;
      if (signal?.aborted) entry.reject(cancelledError(signal));
      else if (deadline !== undefined && expired(deadline)) entry.reject(deadlineError(deadline));
      else entries.push(entry);
    }
    const [first] = entries;
    if (first === undefined) return;
    if (entries.length === 1) {
      this.#sendOne(first.item).then(first.resolve, first.reject);
      return;
    }
    // The batch waits as long as its most patient member; impatient members stop waiting on their own.
    const deadlines = entries.map((e) => e.item.deadline);
    const deadline = deadlines.includes(undefined) ? undefined : Math.max(...(deadlines as number[]));
    const request = {
      consistency: consistencyToWire(first.item.consistency),
      items: entries.map((e) => e.item.wire),
    };
    // One request, one request id and one trace parent: the first caller's.
    const { requestId, traceContext } = first.item;
    const options: TransportCallOptions = { deadline, requestId, traceContext };
    withRetries(this.#retry, () => this.#transport.unary('CheckBatch', request, options), deadline, undefined)
      .then((response) => settleBatch(entries, response))
      // One handler for both: a failed call, or a response settleBatch could not read.
      .catch((err: unknown) => {
        for (const entry of entries) entry.reject(err);
      });
  }
}

function settleBatch(entries: readonly BatchEntry<PendingCheck, CheckResult>[], response: WireMessage): void {
  const results = records(response.results);
  const checkedAt = tokenFromWire(response.checkedAt);
  entries.forEach((entry, i) => {
    const result = results[i];
    if (result === undefined) {
      entry.reject(
        new InternalError(`server answered ${results.length} results for a batch of ${entries.length}`),
      );
      return;
    }
    try {
      const outcome = batchResultFromWire(result);
      if (outcome.error !== undefined) entry.reject(outcome.error);
      else entry.resolve({ ...outcome, checkedAt });
    } catch (err) {
      entry.reject(err);
    }
  });
}
