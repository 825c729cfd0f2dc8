// Serves the hono app over node:http on TCP or a unix socket, with a drain-then-force shutdown.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { formatListenAddress, type ListenAddress } from '../../config/listen-address.js';
import { removeStaleSocket } from '../unix-socket.js';

const DRAIN_SWEEP_MS = 25;

export class HttpServer {
  readonly #server: Server;

  constructor(app: Hono) {
    this.#server = createAdaptorServer({ fetch: app.fetch }) as Server;
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

  /** Stop accepting, let in-flight requests finish for up to `graceMs`, then close every connection. */
  shutdown(graceMs: number): Promise<void> {
    if (!this.#server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      // close() only drops connections idle at the moment it is called; a keep-alive connection
      // whose request finishes later would hold the drain open until its keep-alive timeout.
      const sweep = setInterval(() => this.#server.closeIdleConnections(), DRAIN_SWEEP_MS);
      const timer = setTimeout(() => {
        this.#server.closeAllConnections();
      }, graceMs);
      this.#server.close(() => {
        clearInterval(sweep);
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
