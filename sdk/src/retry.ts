// Retries with exponential backoff and jitter, for reads that failed with UNAVAILABLE only.
import { onAbort } from './abort.js';
import { CancelledError, GatehouseError } from './errors.js';

/** How reads are retried. Writes are never retried: a lost answer to a write cannot be told from a lost write. */
export interface RetryPolicy {
  /** Attempts in total, including the first (default 3; 1 disables retries). */
  readonly maxAttempts: number;
  /** Backoff before the first retry, doubled for each later one (default 50 ms). */
  readonly initialBackoffMs: number;
  /** Upper bound of one backoff (default 1000 ms). */
  readonly maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 1000 };

/** Only UNAVAILABLE means "the request was not processed; the same request may succeed later". */
export function isRetryable(err: unknown): boolean {
  return err instanceof GatehouseError && err.code === 'UNAVAILABLE';
}

/**
 * The backoff before retry number `retry` (1-based): half of the exponential cap plus a random
 * half ("equal jitter"), so clients that failed together do not retry together.
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (retry - 1));
  return cap / 2 + random() * (cap / 2);
}

/** Resolve after `ms`, or reject with CancelledError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new CancelledError('call cancelled by its AbortSignal', { cause: signal.reason }));
      return;
    }
    const timer = setTimeout(() => {
      unsubscribe?.();
      resolve();
    }, ms);
    const unsubscribe =
      signal === undefined
        ? undefined
        : onAbort(signal, () => {
            clearTimeout(timer);
            reject(new CancelledError('call cancelled by its AbortSignal', { cause: signal.reason }));
          });
  });
}

/**
 * Run `attempt` until it succeeds, fails with a non-retryable error, runs out of attempts, or
 * the next backoff would end past `deadline` (epoch ms). The last error is rethrown as is.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: () => Promise<T>,
  deadline: number | undefined,
  signal: AbortSignal | undefined,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= policy.maxAttempts || !isRetryable(err)) throw err;
      const delay = backoffMs(policy, n);
      if (deadline !== undefined && Date.now() + delay >= deadline) throw err;
      await sleep(delay, signal);
    }
  }
}
