// A Watch feed as an NDJSON body: one WatchResponse JSON per line, pulled at the reader's pace.
// A stream that must end with an error ends with one `{"error": {...}}` line.
import { asGatehouseError, CancelledError, type GatehouseError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { WatchFeed } from '../../service/watch-feed.js';
import { encodeWatch, JSON_STYLE } from '../wire/encode.js';
import { errorBody } from './errors.js';

/**
 * Told once, when the body ends: `undefined` when the feed finished, otherwise why it stopped
 * (the error its last line carried, or CANCELLED when the reader went away). The request's
 * span ends here, so a watch's span lasts as long as the watch.
 */
export type StreamEnded = (error: GatehouseError | undefined) => void;

export function watchStream(
  feed: WatchFeed,
  logger: Logger,
  ended: StreamEnded = () => undefined,
): ReadableStream<Uint8Array> {
  const utf8 = new TextEncoder();
  let settled = false;
  const settle = (error: GatehouseError | undefined): void => {
    if (settled) return;
    settled = true;
    ended(error);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await feed.next();
        if (next.done === true) {
          controller.close();
          settle(undefined);
        } else controller.enqueue(utf8.encode(`${JSON.stringify(encodeWatch(next.value, JSON_STYLE))}\n`));
      } catch (err) {
        const e = asGatehouseError(err);
        if (e.code === 'INTERNAL')
          logger.error({ err, method: 'Watch', transport: 'http' }, 'watch stream failed');
        controller.enqueue(utf8.encode(`${errorBody(e)}\n`));
        controller.close();
        settle(e);
      }
    },
    cancel() {
      void feed.return();
      settle(new CancelledError('the client closed the watch stream'));
    },
  });
}
