// One 'abort' listener per AbortSignal however many calls wait on it (Node warns past ten).
interface Waiters {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const waiting = new WeakMap<AbortSignal, Waiters>();

/**
 * Run `callback` once when `signal` aborts; the returned function unsubscribes it. A request's
 * signal shared by fifty checks adds one listener, not fifty (each would count toward Node's
 * MaxListenersExceededWarning, a false "memory leak" in the caller's logs).
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let waiters = waiting.get(signal);
  if (waiters === undefined) {
    const callbacks = new Set<() => void>();
    const listener = (): void => {
      waiting.delete(signal);
      for (const cb of callbacks) {
        try {
          cb();
        } catch {
          // One waiter's failure must not keep the others waiting.
        }
      }
    };
    waiters = { callbacks, listener };
    waiting.set(signal, waiters);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { callbacks, listener } = waiters;
  const own = (): void => callback();
  callbacks.add(own);
  return () => {
    callbacks.delete(own);
    if (callbacks.size === 0 && waiting.get(signal)?.callbacks === callbacks) {
      waiting.delete(signal);
      signal.removeEventListener('abort', listener);
    }
  };
}
