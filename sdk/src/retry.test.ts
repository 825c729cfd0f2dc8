// Retry policy: which errors are retried, how often, and that backoff stays within its bounds.
import { describe, expect, it } from 'vitest';
import { CancelledError, InvalidArgumentError, UnavailableError } from './errors.js';
import { backoffMs, withRetries } from './retry.js';

const fast = { maxAttempts: 4, initialBackoffMs: 1, maxBackoffMs: 4 };

describe('withRetries', () => {
  it('retries UNAVAILABLE up to maxAttempts and rethrows the last error', async () => {
    let attempts = 0;
    const failing = async (): Promise<never> => {
      attempts++;
      throw new UnavailableError(`down ${attempts}`);
    };
    await expect(withRetries(fast, failing, undefined, undefined)).rejects.toThrow('down 4');
    expect(attempts).toBe(4);
  });

  it('does not retry other codes', async () => {
    let attempts = 0;
    const failing = async (): Promise<never> => {
      attempts++;
      throw new InvalidArgumentError('bad id');
    };
    await expect(withRetries(fast, failing, undefined, undefined)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(attempts).toBe(1);
  });

  it('stops retrying when the next backoff would end past the deadline', async () => {
    let attempts = 0;
    const slow = { maxAttempts: 10, initialBackoffMs: 10_000, maxBackoffMs: 10_000 };
    const failing = async (): Promise<never> => {
      attempts++;
      throw new UnavailableError('down');
    };
    await expect(withRetries(slow, failing, Date.now() + 1000, undefined)).rejects.toBeInstanceOf(
      UnavailableError,
    );
    expect(attempts).toBe(1);
  });

  it('stops waiting for the backoff when the signal aborts', async () => {
    const controller = new AbortController();
    const slow = { maxAttempts: 3, initialBackoffMs: 60_000, maxBackoffMs: 60_000 };
    const pending = withRetries(
      slow,
      async () => {
        throw new UnavailableError('down');
      },
      undefined,
      controller.signal,
    );
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('backoffMs', () => {
  it('doubles from the initial backoff up to the cap, jittered within the upper half', () => {
    const policy = { maxAttempts: 10, initialBackoffMs: 100, maxBackoffMs: 1000 };
    expect(backoffMs(policy, 1, () => 0)).toBe(50);
    expect(backoffMs(policy, 1, () => 1)).toBe(100);
    expect(backoffMs(policy, 3, () => 1)).toBe(400);
    expect(backoffMs(policy, 8, () => 0)).toBe(500);
    expect(backoffMs(policy, 8, () => 1)).toBe(1000);
  });
});
