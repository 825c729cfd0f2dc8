// Draining the HTTP server: a keep-alive connection busy when the drain begins gets its answer
// with `Connection: close` and is then closed by the server, so its client does not send the
// next request into a connection that is going away; the drain ends when the last answer does.
import { Agent, get, type IncomingMessage } from 'node:http';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer } from '../../server/src/transport/http/server.js';

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly body: string;
  readonly socketClosed: Promise<void>;
}

function fetchOn(agent: Agent, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res: IncomingMessage) => {
      const socketClosed = new Promise<void>((done) => res.socket.once('close', () => done()));
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body, socketClosed }),
      );
    }).on('error', reject);
  });
}

describe('HttpServer drain', () => {
  const agents: Agent[] = [];
  afterEach(() => {
    for (const a of agents.splice(0)) a.destroy();
  });

  it('answers a request in flight with Connection: close, closes its connection, then finishes', async () => {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((r) => {
      arrived = r;
    });
    const app = new Hono();
    app.get('/fast', (c) => c.text('fast'));
    app.get('/slow', async (c) => {
      arrived();
      await new Promise<void>((r) => {
        release = r;
      });
      return c.text('slow');
    });
    const server = new HttpServer(app);
    const base = `http://${await server.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 })}`;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);

    // Before the drain the connection is kept alive for the next request.
    const before = await fetchOn(agent, `${base}/fast`);
    expect(before.connection).toBe('keep-alive');

    const slow = fetchOn(agent, `${base}/slow`);
    await slowArrived;
    // A grace far beyond the test's timeout: the drain must end with its last request.
    const drained = server.shutdown(10 * 60_000);
    release();
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('slow');
    expect(answer.connection).toBe('close');
    await answer.socketClosed;
    await drained;
  });
});
