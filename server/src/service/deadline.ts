// Bounds a store call by the caller's deadline.
import { DeadlineExceededError } from '../errors.js';

/** Race a store call against the deadline. The call itself is not cancelled (stores cannot abort). */
export function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  const ms = deadline - Date.now();
  if (ms <= 0) {
    work.catch(() => undefined);
    return Promise.reject(
      new DeadlineExceededError(
        'the deadline passed before the store could be asked: retry with a longer deadline',
      ),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DeadlineExceededError(
            `the store did not answer within the deadline (${ms} ms): retry with a longer deadline`,
          ),
        ),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
