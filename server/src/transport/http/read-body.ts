// Reads a request body as text within the body-size limit. Declared-length bodies (the common
// case) stay on @hono/node-server's fast path, which reads the socket directly; touching
// `c.req.raw.body` (as hono's bodyLimit middleware does) would build a full web Request and
// ReadableStream per call. Chunked bodies are counted as they stream, so none can exhaust memory.
import type { Context } from 'hono';
import { LimitExceededError } from '../../errors.js';
import { headerValue, type RequestHeaders } from './request-headers.js';

function tooLarge(maxBytes: number): LimitExceededError {
  return new LimitExceededError(
    `the request body exceeds the limit of ${maxBytes} bytes: send less per call`,
  );
}

/**
 * The body as text, or LimitExceededError past `maxBytes`. Not `async`: the declared-length path
 * hands back the adapter's own promise, so a check pays for one promise here, not two.
 */
export function readBodyText(c: Context, headers: RequestHeaders, maxBytes: number): Promise<string> {
  const declared = headerValue(headers, 'content-length');
  if (declared !== undefined && headerValue(headers, 'transfer-encoding') === undefined) {
    if (Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
    return c.req.text();
  }
  return readCounted(c, maxBytes);
}

async function readCounted(c: Context, maxBytes: number): Promise<string> {
  const body = c.req.raw.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
