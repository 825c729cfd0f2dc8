// Per-call deadlines and cancellation: computing the absolute deadline and enforcing it locally.
import { onAbort } from './abort.js';
import { CancelledError, DeadlineExceededError, InvalidArgumentError } from './errors.js';

/**
 * The absolute deadline (epoch ms) of a call: its own `timeoutMs`, else the client default,
 * else none. A call's `timeoutMs` of 0 or less has already run out (a caller passing what is
 * left of its own budget must not get an unbounded call); `Infinity` means no deadline. The
 * client default of 0 means none, as documented.
 */
export function deadlineFrom(
  timeoutMs: number | undefined,
  defaultTimeoutMs: number | undefined,
): number | undefined {
  if (timeoutMs !== undefined) {
    if (Number.isNaN(timeoutMs)) {
      throw new InvalidArgumentError(
        'timeoutMs is NaN: pass a number of milliseconds, or Infinity for none',
        {
          field: 'timeoutMs',
        },
      );
    }
    return timeoutMs === Number.POSITIVE_INFINITY ? undefined : Date.now() + Math.max(0, timeoutMs);
  }
  return defaultTimeoutMs === undefined || defaultTimeoutMs === 0 || !Number.isFinite(defaultTimeoutMs)
    ? undefined
    : Date.now() + defaultTimeoutMs;
}

/** True once `deadline` has passed. */
export function expired(deadline: number | undefined): boolean {
  return deadline !== undefined && Date.now() >= deadline;
}

export function deadlineError(deadline: number, startedAt?: number): DeadlineExceededError {
  const waited = startedAt === undefined ? '' : ` after ${Math.max(0, deadline - startedAt)} ms`;
  return new DeadlineExceededError(
    `the call's deadline passed${waited} before the server answered; raise timeoutMs or check the server's load`,
  );
}

export function cancelledError(signal: AbortSignal): CancelledError {
  return new CancelledError('call cancelled by its AbortSignal', { cause: signal.reason });
}

/**
 * Settle with `promise`, or reject earlier when `deadline` passes or `signal` aborts. Used
 * where one caller's limits cannot be handed to the transport, e.g. a check that shares a
 * batch with others: the batch goes on, this caller stops waiting.
 */
export function guard<T>(
  promise: Promise<T>,
  deadline: number | undefined,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (deadline === undefined && signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const startedAt = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let unsubscribe: (() => void) | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      unsubscribe?.();
    };
    const abort = (): void => {
      cleanup();
      reject(cancelledError(signal as AbortSignal));
    };
    // Handlers go on `promise` before anything can settle this one early: once the caller has
    // stopped waiting, a later rejection of `promise` must still be handled, or Node's default
    // `--unhandled-rejections=throw` ends the caller's process.
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err);
      },
    );
    if (signal?.aborted) {
      abort();
      return;
    }
    if (signal !== undefined) unsubscribe = onAbort(signal, abort);
    if (deadline !== undefined) {
      timer = setTimeout(
        () => {
          cleanup();
          reject(deadlineError(deadline, startedAt));
        },
        Math.max(0, deadline - startedAt),
      );
    }
  });
}
