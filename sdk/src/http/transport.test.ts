// HTTP-only behaviour: answers without a JSON error body, broken 2xx bodies, and unix sockets via undici.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GatehouseClient } from '../client.js';
import { InternalError, ResourceExhaustedError, UnavailableError } from '../errors.js';
import type { FakeServer } from '../test-support/fake-backend.js';
import { startFakeHttpServer } from '../test-support/fake-http-server.js';
import { createHttpTransport } from './index.js';

describe('HttpTransport', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  async function rawServer(status: number, body: string, contentType = 'text/plain'): Promise<FakeServer> {
    const server = await startFakeHttpServer({}, (_req, res) => {
      res.writeHead(status, { 'content-type': contentType });
      res.end(body);
      return true;
    });
    open.push(server);
    return server;
  }

  it('classifies a proxy error page by its status when there is no JSON error body', async () => {
    const server = await rawServer(502, '<html>Bad Gateway</html>');
    const client = new GatehouseClient(createHttpTransport({ baseUrl: server.address }), { retries: false });
    const err = await client
      .lookupSubjects({ resource: 'doc:a', permission: 'view', subjectType: 'user' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('HTTP 502');
  });

  it('maps a 413 without body to ResourceExhaustedError', async () => {
    const server = await rawServer(413, '');
    const client = new GatehouseClient(createHttpTransport({ baseUrl: server.address }));
    await expect(client.checkBatch(['doc:a#view@user:u'])).rejects.toBeInstanceOf(ResourceExhaustedError);
  });

  it('reports a 2xx body that is not JSON as InternalError', async () => {
    const server = await rawServer(200, 'ok', 'application/json');
    const client = new GatehouseClient(createHttpTransport({ baseUrl: server.address }), { batching: false });
    await expect(client.check('doc:a#view@user:u')).rejects.toBeInstanceOf(InternalError);
  });

  it('reaches a server on a unix socket through socketPath', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-'));
    const socketPath = join(dir, 'http.sock');
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ schemaJson: `{"path":"${req.url}"}`, schemaHash: 'h' }));
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    open.push({
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => {
            rmSync(dir, { recursive: true, force: true });
            resolve();
          });
        }),
    });
    const client = new GatehouseClient(createHttpTransport({ baseUrl: 'http://gatehouse', socketPath }));
    open.push(client);
    await expect(client.readSchema()).resolves.toMatchObject({
      schema: { path: '/v1/schema' },
      schemaHash: 'h',
    });
  });
});
