// The HTTP transport floor: a bare hono app on @hono/node-server that parses each JSON request
// and answers a constant decision on Gatehouse's paths, with no decision logic behind it.
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { parseEndpoint } from '../endpoint.js';
import { logReady, parseEchoArgs, sleep } from './echo-args.js';

const args = parseEchoArgs(process.argv.slice(2), 'http');
const app = new Hono();

/** Parse the body (the work a real server must do), wait, then answer `body(request)` or fail. */
function route(path: string, body: (request: { items?: unknown[] }) => unknown): void {
  app.post(path, async (c) => {
    const request = (await c.req.json()) as { items?: unknown[] };
    if (args.delayMs > 0) await sleep(args.delayMs);
    if (args.fail !== undefined) {
      return c.json(
        { error: { code: 'UNAVAILABLE', message: 'echo server told to fail' } },
        args.fail as ContentfulStatusCode,
      );
    }
    return c.json(body(request));
  });
}

const HAS = { permissionship: 'PERMISSIONSHIP_HAS_PERMISSION' };
route('/v1/check', () => HAS);
route('/v1/check/batch', (request) => ({ results: (request.items ?? []).map(() => HAS) }));
route('/v1/lookup/resources', () => ({ resourceObjectIds: [], nextCursor: '' }));

const endpoint = parseEndpoint(args.listen);
const server = createAdaptorServer({ fetch: app.fetch });
if (endpoint.kind === 'unix') {
  rmSync(endpoint.path, { force: true });
  server.listen(endpoint.path, () => logReady({ http: `unix:${endpoint.path}` }));
} else {
  server.listen(endpoint.port, endpoint.host, () => {
    const { address, port } = server.address() as AddressInfo;
    logReady({ http: `${address}:${port}` });
  });
}
process.on('SIGTERM', () => server.close(() => process.exit(0)));
