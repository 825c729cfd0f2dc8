// A Watch feed as an NDJSON body: one WatchResponse JSON per line, pulled at the reader's pace.
// A stream that must end with an error ends with one `{"error": {...}}` line.
import { asGatehouseError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { WatchFeed } from '../../service/watch-feed.js';
import { encodeWatch, JSON_STYLE } from '../wire/encode.js';
import { errorBody } from './errors.js';

export function watchStream(feed: WatchFeed, logger: Logger): ReadableStream<Uint8Array> {
  const utf8 = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await feed.next();
        if (next.done === true) controller.close();
        else controller.enqueue(utf8.encode(`${JSON.stringify(encodeWatch(next.value, JSON_STYLE))}\n`));
      } catch (err) {
        const e = asGatehouseError(err);
        if (e.code === 'INTERNAL')
          logger.error({ err, method: 'Watch', transport: 'http' }, 'watch stream failed');
        controller.enqueue(utf8.encode(`${errorBody(e)}\n`));
        controller.close();
      }
    },
    cancel() {
      void feed.return();
    },
  });
}
