// Test support: an in-process TCP proxy between a client (a gatehouse replica) and Redis that can
// cut every connection, cut one in the middle of a reply, or refuse new connections for a while.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` when the upstream is Redis. */
  readonly url: string;
  /** Connections open right now. */
  readonly connections: number;
  /** Bytes relayed upstream → client so far (for waiting until a reply is in flight). */
  readonly bytesDown: number;
  /** Destroy every open connection at once (both sides see a reset). */
  cutAll(): void;
  /**
   * The next time upstream sends at least one byte to a client, pass on half of that chunk and then
   * destroy both sockets: the client sees a reply that stops mid-read. Resolves when it has cut.
   */
  cutNextReply(): Promise<void>;
  /** While refusing, new client connections are closed at once (as if the upstream were down). */
  refuse(refusing: boolean): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

/** Listen on a free loopback port and relay each connection to `upstreamPort` on 127.0.0.1. */
export async function startTcpProxy(upstreamPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let refusing = false;
  let bytesDown = 0;
  let pendingCut: (() => void) | undefined;

  const destroy = (pair: Pair): void => {
    pair.client.destroy();
    pair.upstream.destroy();
    pairs.delete(pair);
  };

  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: upstreamPort });
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    client.on('data', (chunk) => {
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      if (pendingCut !== undefined) {
        const done = pendingCut;
        pendingCut = undefined;
        const half = Math.max(1, Math.floor(chunk.length / 2));
        // Half a reply, then a reset: the client's parser is left mid-frame.
        client.write(chunk.subarray(0, half), () => destroy(pair));
        bytesDown += half;
        done();
        return;
      }
      bytesDown += chunk.length;
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    const end = (): void => destroy(pair);
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    get bytesDown() {
      return bytesDown;
    },
    cutAll: () => {
      for (const pair of [...pairs]) destroy(pair);
    },
    cutNextReply: () =>
      new Promise<void>((resolve) => {
        pendingCut = resolve;
      }),
    refuse: (value) => {
      refusing = value;
    },
    close: async () => {
      pendingCut?.();
      pendingCut = undefined;
      for (const pair of [...pairs]) destroy(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
