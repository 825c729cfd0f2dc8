// How a LookupResources stream hands its pages to a transport, and waits on it: the transport
// knows its flow control (HTTP/2 windows, socket buffers) and whether the client is still there;
// the service decides when to produce the next page.
import type { LookupResourcesResult } from './requests.js';

/**
 * Ids a stream sends before it gives the event loop back (a few pages of the default size, well
 * under a millisecond of encoding): a listing of a few thousand ids goes out in one turn, and a
 * larger one lets checks and other lookups in between its pages rather than after its last.
 */
export const LOOKUP_IDS_PER_TURN = 4096;

export interface LookupPageSink {
  /** Sends one page; false once the transport holds enough unsent: wait for `ready()` then. */
  write(page: LookupResourcesResult): boolean;
  /** Resolves once the transport can take more, or the client has gone (see `closed`). */
  ready(): Promise<void>;
  /** True once the client cancelled or went away: nothing more is sent, no more pages made. */
  readonly closed: boolean;
}

/**
 * Waits for `sink` to drain, or until `deadline` (ms since epoch): a client that stops reading
 * holds its stream no longer than its deadline, and the caller then reports the deadline.
 */
export async function untilReady(sink: LookupPageSink, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    // One past the deadline, so the caller, reading Date.now() next, sees it has passed.
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1);
  });
  try {
    await Promise.race([sink.ready(), late]);
  } finally {
    clearTimeout(timer);
  }
}
