// Request headers for the routes, read once per request. Served by @hono/node-server, the app
// reads Node's already-parsed `IncomingMessage.headers` (plain properties, lower-case names):
// hono's `c.req.header(name)` goes through the adapter's lazy Headers, which validates and
// normalises the name and the value with regular expressions on every call, and a check reads
// six headers. Node's parser keeps the first of duplicated singleton headers (content-type,
// content-length, authorization) and joins the others with ", ", as it does for every Node server.
// Anywhere else (`app.request()` in tests, other runtimes) the web Request's headers are used.
import type { IncomingHttpHeaders } from 'node:http';
import type { Context } from 'hono';

/** Header values by lower-case name. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

interface NodeBindings {
  readonly incoming?: {
    readonly headers: IncomingHttpHeaders;
    readonly socket: { readonly destroyed: boolean } | null;
  };
}

/** The request's headers; cheap to call once per request on the Node path. */
export function requestHeaders(c: Context): RequestHeaders {
  const incoming = (c.env as NodeBindings | undefined)?.incoming;
  return incoming !== undefined ? incoming.headers : c.req.header();
}

/** One header's value; `name` must be lower-case. Only `set-cookie` is ever a list, never read here. */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Whether the client has gone (its connection closed) while its request was being handled. On
 * the error path only: a body read that fails because the peer left is the client's doing.
 */
export function clientGone(c: Context, err: unknown): boolean {
  const incoming = (c.env as NodeBindings | undefined)?.incoming;
  if (incoming !== undefined && (incoming.socket === null || incoming.socket.destroyed)) return true;
  // Node's IncomingMessage fails a body read with `aborted` / ECONNRESET when the peer leaves.
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ECONNRESET';
}
