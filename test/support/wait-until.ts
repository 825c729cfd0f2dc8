// Test support: wait for a condition with a generous bound instead of sleeping for a guessed time.

/**
 * How long a test waits for something that happens by itself (a replica catching up, a reload, a
 * reconnect) before failing. Only a hang should reach it, even on a loaded 2-core machine: the
 * bound decides how long a failing test takes, never whether a working one passes.
 */
export const PATIENT_MS = 60_000;

/** PATIENT_MS for `vi.waitFor` / `expect.poll`, whose own default (1 s) is a speed assumption. */
export const PATIENCE = { timeout: PATIENT_MS, interval: 20 } as const;

/** Poll `condition` every `intervalMs` until it holds; throw with `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = PATIENT_MS,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
