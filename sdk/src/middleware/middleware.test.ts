// Route guards: allow passes through, deny is 403, no subject 401, a failed check 503 or as configured.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { GatehouseClient } from '../client.js';
import { InvalidArgumentError, UnavailableError } from '../errors.js';
import type { Transport, UnaryMethod, WireMessage } from '../transport.js';
import { requirePermission as expressGuard } from './express.js';
import type { Checker } from './guard.js';
import { requirePermission as honoGuard } from './hono.js';

/** Allows `user:alice` on everything, fails for resource `doc:down`, denies the rest. */
const checker: Checker & { seen: string[] } = {
  seen: [],
  async check(request) {
    const resource = String(request.resource);
    this.seen.push(`${resource}#${request.permission}@${String(request.subject)}`);
    if (resource === 'doc:down') throw new UnavailableError('gatehouse down');
    const allowed = request.subject === 'user:alice';
    return { allowed, permissionship: allowed ? 'allowed' : 'denied', checkedAt: 't' };
  },
};

describe('hono requirePermission', () => {
  const app = new Hono();
  app.get(
    '/docs/:id',
    honoGuard({
      client: checker,
      permission: 'view',
      resource: (c) => `doc:${c.req.param('id')}`,
      subject: (c) => {
        const user = c.req.header('x-user');
        return user === undefined ? undefined : `user:${user}`;
      },
    }),
    (c) => c.text(`doc ${c.req.param('id')}`),
  );
  app.get(
    '/strict/:id',
    honoGuard({
      client: checker,
      permission: 'view',
      resource: (c) => `doc:${c.req.param('id')}`,
      subject: () => 'user:alice',
      errorStatus: 500,
    }),
    (c) => c.text('ok'),
  );

  it('runs the route when allowed, checking the extracted tuple', async () => {
    checker.seen.length = 0;
    const res = await app.request('/docs/7', { headers: { 'x-user': 'alice' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('doc 7');
    expect(checker.seen).toEqual(['doc:7#view@user:alice']);
  });

  it('answers 403 with the server error shape when denied', async () => {
    const res = await app.request('/docs/7', { headers: { 'x-user': 'bob' } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: 'PERMISSION_DENIED', message: 'permission denied' } });
  });

  it('answers 401 without a subject, without calling Gatehouse', async () => {
    checker.seen.length = 0;
    const res = await app.request('/docs/7');
    expect(res.status).toBe(401);
    expect(checker.seen).toEqual([]);
  });

  it('answers 503 when the check fails, or the configured status', async () => {
    expect((await app.request('/docs/down', { headers: { 'x-user': 'alice' } })).status).toBe(503);
    expect((await app.request('/strict/down')).status).toBe(500);
  });
});

describe('express requirePermission', () => {
  it('guards a route: 200 allowed, 403 denied, 503 on failure', async () => {
    const app = express();
    app.get(
      '/docs/:id',
      expressGuard({
        client: checker,
        permission: 'edit',
        resource: (req) => `doc:${String(req.params.id)}`,
        subject: (req) => `user:${String(req.headers['x-user'])}`,
      }),
      (req, res) => {
        res.send(`doc ${String(req.params.id)}`);
      },
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const allowed = await fetch(`${base}/docs/1`, { headers: { 'x-user': 'alice' } });
      expect([allowed.status, await allowed.text()]).toEqual([200, 'doc 1']);
      const denied = await fetch(`${base}/docs/1`, { headers: { 'x-user': 'bob' } });
      expect(denied.status).toBe(403);
      expect(await denied.json()).toMatchObject({ error: { code: 'PERMISSION_DENIED' } });
      const failed = await fetch(`${base}/docs/down`, { headers: { 'x-user': 'alice' } });
      expect(failed.status).toBe(503);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/** A transport that allows every check the client sends, refusing ids the way the server does. */
class ServerLikeTransport implements Transport {
  readonly sent: WireMessage[] = [];
  async unary(method: UnaryMethod, request: WireMessage): Promise<WireMessage> {
    this.sent.push(request);
    const id = (request.resource as { objectId: string }).objectId;
    if (!/^[\w|/.+=-]{1,1024}$/.test(id)) {
      throw new InvalidArgumentError(`invalid resource id '${id}'`, { field: 'resource' });
    }
    if (request.permission === 'bogus') {
      throw new InvalidArgumentError("unknown permission 'bogus'", { field: 'permission' });
    }
    return { permissionship: 'PERMISSIONSHIP_HAS_PERMISSION', checkedAt: { token: method } };
  }
  // biome-ignore lint/correctness/useYield: no streams here
  async *serverStream(): AsyncIterable<WireMessage> {
    throw new Error('unused');
  }
  async close(): Promise<void> {}
}

describe('a malformed id in a guarded route', () => {
  const transport = new ServerLikeTransport();
  const client = new GatehouseClient(transport);
  const app = new Hono();
  for (const permission of ['view', 'bogus']) {
    app.get(
      `/${permission}/:id`,
      honoGuard({
        client,
        permission,
        resource: (c) => `doc:${c.req.param('id')}`,
        subject: () => 'user:alice',
      }),
      (c) => c.text('ok'),
    );
  }

  it('answers 400 when the SDK cannot parse the id, without calling Gatehouse', async () => {
    const res = await app.request('/view/a%23b');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'the request names an invalid resource' },
    });
    expect(transport.sent).toEqual([]);
  });

  it('answers 400 when the server refuses the id', async () => {
    const res = await app.request('/view/a%20b');
    expect(res.status).toBe(400);
    expect(transport.sent).toHaveLength(1);
  });

  it('still answers 503 for an unknown permission: the route is misconfigured, not the request', async () => {
    expect((await app.request('/bogus/a')).status).toBe(503);
    expect((await app.request('/view/a')).status).toBe(200);
  });

  it('answers 400 through the Express guard too', async () => {
    const express_ = express();
    express_.get(
      '/docs/:id',
      expressGuard({
        client,
        permission: 'view',
        resource: (req) => `doc:${String(req.params.id)}`,
        subject: () => 'user:alice',
      }),
      (_req, res) => {
        res.send('ok');
      },
    );
    const server = express_.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/docs/a%40b`)).status).toBe(400);
      expect((await fetch(`${base}/docs/ok`)).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
