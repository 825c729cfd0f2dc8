// Per-call deadlines and cancellation: computing the absolute deadline and enforcing it locally.
import { CancelledError, DeadlineExceededError } from './errors.js';

/** The absolute deadline (epoch ms) of a call: its own timeout, else the client default, else none. */
export function deadlineFrom(
  timeoutMs: number | undefined,
  defaultTimeoutMs: number | undefined,
): number | undefined {
  const ms = timeoutMs ?? defaultTimeoutMs;
  return ms === undefined || ms <= 0 || !Number.isFinite(ms) ? undefined : Date.now() + ms;
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
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
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
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
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
