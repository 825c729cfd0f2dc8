// Serves the hono app over node:http (or node:https) on TCP or a unix socket, with a
// drain-then-force shutdown.
import { type IncomingMessage, type Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { formatListenAddress, type ListenAddress } from '../../config/listen-address.js';
import type { TlsFiles } from '../tls/tls-files.js';
import { removeStaleSocket } from '../unix-socket.js';

/** Serve HTTPS from `files`; `requireClientCert` asks for and verifies a client certificate. */
export interface HttpTls {
  readonly files: TlsFiles;
  readonly requireClientCert: boolean;
}

/**
 * node:http's response, except that once the server drains, headers written carry
 * `Connection: close` and the connection closes after the response. Without it a keep-alive
 * client would send its next request on a connection the drain is about to close, and see it
 * reset instead of answered or refused. Decided as headers are written, so a response to a
 * request that was already in flight when the drain began is covered too.
 */
function drainAwareResponse(isDraining: () => boolean): typeof ServerResponse {
  return class DrainAwareResponse<
    Request extends IncomingMessage = IncomingMessage,
  > extends ServerResponse<Request> {
    // biome-ignore lint/suspicious/noExplicitAny: forwards every writeHead overload unchanged
    override writeHead(...args: any[]): this {
      if (isDraining()) this.shouldKeepAlive = false;
      return super.writeHead(...(args as Parameters<ServerResponse['writeHead']>));
    }
  };
}

export class HttpServer {
  readonly #server: Server;
  #draining = false;

  constructor(app: Hono, tls?: HttpTls) {
    const ServerResponse = drainAwareResponse(() => this.#draining);
    if (tls === undefined) {
      this.#server = createAdaptorServer({ fetch: app.fetch, serverOptions: { ServerResponse } }) as Server;
      return;
    }
    const { cert, key, ca } = tls.files.current;
    const requireClientCert = tls.requireClientCert && ca !== undefined;
    const server = createAdaptorServer({
      fetch: app.fetch,
      createServer: createHttpsServer,
      serverOptions: {
        ServerResponse,
        cert,
        key,
        ca: requireClientCert ? ca : undefined,
        requestCert: requireClientCert,
        rejectUnauthorized: requireClientCert,
      },
    }) as HttpsServer;
    // New connections get the rotated certificate; established ones keep the one they agreed on.
    tls.files.onChange((m) =>
      server.setSecureContext({ cert: m.cert, key: m.key, ca: requireClientCert ? m.ca : undefined }),
    );
    this.#server = server as unknown as Server;
  }

  /** Bind and start; resolves to the bound address (the real port when 0 was asked for). */
  async listen(address: ListenAddress): Promise<string> {
    if (address.kind === 'unix') await removeStaleSocket(address.path);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void =>
        reject(
          new Error(`HTTP cannot listen on ${formatListenAddress(address)}: ${err.message}`, { cause: err }),
        );
      this.#server.once('error', onError);
      const done = (): void => {
        this.#server.off('error', onError);
        resolve();
      };
      if (address.kind === 'unix') this.#server.listen(address.path, done);
      else this.#server.listen(address.port, address.host, done);
    });
    if (address.kind === 'unix') return formatListenAddress(address);
    return formatListenAddress({ ...address, port: (this.#server.address() as AddressInfo).port });
  }

  /**
   * Stop accepting, let in-flight requests finish for up to `graceMs`, then close every
   * connection. Every response written from now on carries `Connection: close`, and its
   * connection closes after it. A connection idle at the start is not cut: its client may have
   * a request on the wire (or unread in the socket), which must be answered, not reset. It closes
   * after that answer, or when node:http's keep-alive timeout ends it as it would have anyway
   * (`Keep-Alive: timeout=5` tells clients when), so the drain adds no reset of its own.
   */
  shutdown(graceMs: number): Promise<void> {
    if (!this.#server.listening) return Promise.resolve();
    this.#draining = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#server.closeAllConnections();
      }, graceMs);
      // net.Server's close, not http.Server's: the latter also destroys every connection it
      // deems idle, including those whose next request sits unread in the socket.
      NetServer.prototype.close.call(this.#server, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
