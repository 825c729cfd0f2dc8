// Test support: an in-process node:http server that serves a FakeBackend the way the HTTP API does.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorCode } from '../errors.js';
import type { StreamMethod, UnaryMethod, WireMessage } from '../transport.js';
import { type FakeBackend, type FakeCall, FakeError, type FakeServer } from './fake-backend.js';

const ROUTES: Readonly<Record<string, UnaryMethod | StreamMethod>> = {
  'POST /v1/check': 'Check',
  'POST /v1/check/batch': 'CheckBatch',
  'POST /v1/lookup/resources': 'LookupResources',
  'POST /v1/lookup/subjects': 'LookupSubjects',
  'POST /v1/explain': 'Explain',
  'POST /v1/relationships/write': 'WriteRelationships',
  'POST /v1/relationships/delete': 'DeleteRelationships',
  'POST /v1/objects/delete': 'DeleteObject',
  'POST /v1/relationships/read': 'ReadRelationships',
  'GET /v1/schema': 'ReadSchema',
  'POST /v1/policies/validate': 'ValidatePolicies',
  'POST /v1/admin/reload': 'ReloadPolicies',
  'POST /v1/watch': 'Watch',
};

const STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  FAILED_PRECONDITION: 412,
  RESOURCE_EXHAUSTED: 413,
  DEADLINE_EXCEEDED: 504,
  UNAVAILABLE: 503,
  CANCELLED: 499,
  INTERNAL: 500,
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof FakeError ? err : new FakeError('INTERNAL', 'internal error');
  res.writeHead(STATUS[e.code], { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } }),
  );
}

/** Start a fake HTTP server on a free loopback port. `raw` overrides the answer for a path. */
export async function startFakeHttpServer(
  backend: FakeBackend,
  raw?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<FakeServer> {
  const calls: FakeCall[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      if (raw?.(req, res) === true) return;
      const method = ROUTES[`${req.method} ${req.url}`];
      const body = await readBody(req);
      const controller = new AbortController();
      res.on('close', () => controller.abort());
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const timeout = headers['gatehouse-timeout-ms'];
      if (method === undefined) {
        sendError(res, new FakeError('NOT_FOUND', `no route ${req.method} ${req.url}`));
        return;
      }
      const call: FakeCall = {
        method,
        request: body === '' ? {} : (JSON.parse(body) as WireMessage),
        headers,
        timeoutMs: timeout === undefined ? undefined : Number(timeout),
        signal: controller.signal,
      };
      calls.push(call);
      try {
        if (method === 'Watch') {
          const handler = backend.stream?.Watch;
          if (handler === undefined) throw new FakeError('INTERNAL', 'no fake for Watch');
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          for await (const message of handler(call)) {
            if (controller.signal.aborted) return;
            res.write(`${JSON.stringify(message)}\n`);
          }
          res.end();
          return;
        }
        // HTTP serves LookupResources one page per call: the stream handler's first page.
        let answer: WireMessage | undefined;
        if (method === 'LookupResources') {
          const handler = backend.stream?.LookupResources;
          if (handler === undefined) throw new FakeError('INTERNAL', 'no fake for LookupResources');
          for await (const page of handler(call)) {
            answer = page;
            break;
          }
        } else {
          const handler = backend.unary?.[method as UnaryMethod];
          if (handler === undefined) throw new FakeError('INTERNAL', `no fake for ${method}`);
          answer = await handler(call);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer ?? {}));
      } catch (err) {
        if (!res.headersSent) sendError(res, err);
        else res.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    calls,
    address: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    kill: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
