// Server streams for reads, retried on UNAVAILABLE only while nothing has been yielded yet.
import { backoffMs, isRetryable, type RetryPolicy, sleep } from './retry.js';
import type { StreamMethod, Transport, TransportCallOptions, WireMessage } from './transport.js';

/**
 * Yield the messages of a read stream. A failure before the first message is retried like a
 * unary read; once a message has been yielded the caller has seen part of the answer, so a
 * later failure is thrown rather than silently restarted.
 */
export async function* readStream(
  transport: Transport,
  method: StreamMethod,
  request: WireMessage,
  options: TransportCallOptions,
  policy: RetryPolicy,
): AsyncIterable<WireMessage> {
  for (let attempt = 1; ; attempt++) {
    let yielded = false;
    try {
      for await (const message of transport.serverStream(method, request, options)) {
        yielded = true;
        yield message;
      }
      return;
    } catch (err) {
      if (yielded || attempt >= policy.maxAttempts || !isRetryable(err)) throw err;
      const delay = backoffMs(policy, attempt);
      if (options.deadline !== undefined && Date.now() + delay >= options.deadline) throw err;
      await sleep(delay, options.signal);
    }
  }
}
