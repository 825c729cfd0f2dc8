// The snapshot loader's own connection (bulk-value-reader.ts) against a real redis-server: values
// come back byte for byte however the socket cuts them, with a login and a database; a failure of
// any kind rejects (never a partial 'done'); and a GraphSnapshotCache whose own connection fails
// or reads other bytes still loads the right snapshot through its client.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/observability/logger.js';
import {
  type BulkEndpoint,
  BulkReadError,
  type BulkSink,
  readValues,
} from '../../server/src/store/redis/bulk-value-reader.js';
import { GraphSnapshotCache } from '../../server/src/store/redis/graph-snapshot-cache.js';
import { freePort, RedisServer } from '../support/redis-server.js';

let redis: RedisServer;
let client: Redis;
let endpoint: BulkEndpoint;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.port, '127.0.0.1');
  endpoint = { host: '127.0.0.1', port: redis.port, db: 0 };
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

/** A sink that keeps every value whole (null for a missing key); `finish()` closes the last one. */
function collector(): BulkSink & { values: (Buffer | null)[]; finish(): void } {
  const values: (Buffer | null)[] = [];
  let parts: Buffer[] = [];
  let open = -1;
  const close = (): void => {
    if (open >= 0) values[open] = Buffer.concat(parts);
    open = -1;
    parts = [];
  };
  return {
    values,
    begin(index, length) {
      close();
      if (length === null) values[index] = null;
      else open = index;
      return true;
    },
    bytes(view) {
      parts.push(Buffer.from(view)); // the view is reused after the call: copy it
    },
    finish: close,
  };
}

async function readAll(
  at: BulkEndpoint,
  keys: readonly string[],
  options: { readBufferBytes?: number; inFlight?: number } = {},
): Promise<(Buffer | null)[]> {
  const sink = collector();
  expect(await readValues(at, keys, sink, { timeoutMs: 10_000, ...options })).toBe('done');
  sink.finish();
  return sink.values;
}

let keyCounter = 0;
const freshKey = (): string => `bulk-test:${keyCounter++}`;

describe('readValues', () => {
  it('returns every value byte for byte, in key order, however reads and replies are cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.uint8Array({ maxLength: 3000 }), { nil: null }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 4 }),
        async (values, readBufferBytes, inFlight) => {
          const keys = values.map(() => freshKey());
          for (const [i, value] of values.entries()) {
            if (value !== null) await client.set(keys[i] as string, Buffer.from(value));
          }
          const read = await readAll(endpoint, keys, { readBufferBytes, inFlight });
          expect(read).toEqual(values.map((v) => (v === null ? null : Buffer.from(v))));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('logs in with a password or an ACL user and reads the configured database', async () => {
    const secured = await RedisServer.start({ config: { requirepass: 'pa ss' } });
    try {
      const admin = new Redis({ port: secured.port, host: '127.0.0.1', password: 'pa ss', db: 3 });
      await admin.call('ACL', 'SETUSER', 'loader', 'on', '>loader-pw', '~*', '+@all');
      const value = randomBytes(5000);
      await admin.set('k', value);
      admin.disconnect();
      const at = { host: '127.0.0.1', port: secured.port, db: 3 };
      expect(await readAll({ ...at, password: 'pa ss' }, ['k', 'absent'])).toEqual([value, null]);
      expect(await readAll({ ...at, username: 'loader', password: 'loader-pw' }, ['k'])).toEqual([value]);
      // Database 0 does not hold the key.
      expect(await readAll({ ...at, db: 0, password: 'pa ss' }, ['k'])).toEqual([null]);
      await expect(readAll({ ...at, password: 'wrong' }, ['k'])).rejects.toThrow(BulkReadError);
      await expect(readAll(at, ['k'])).rejects.toThrow(/NOAUTH/);
    } finally {
      await secured.stop();
    }
  });

  it('rejects on an error reply, a refused connection, a server that never answers, or one that hangs up', async () => {
    const list = freshKey();
    await client.rpush(list, 'a');
    await expect(readAll(endpoint, [list])).rejects.toThrow(/WRONGTYPE/);
    await expect(readAll({ ...endpoint, port: await freePort() }, ['k'])).rejects.toThrow(BulkReadError);
    // Each reads (so it sees the client leave, and close() can finish); one never answers.
    const mute: Server = createServer((socket) => socket.resume());
    const hangsUp: Server = createServer((socket) => {
      socket.resume();
      socket.end('$10\r\nonly');
    });
    await Promise.all([mute, hangsUp].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    try {
      const portOf = (s: Server): number => (s.address() as { port: number }).port;
      const sink = collector();
      await expect(
        readValues({ ...endpoint, port: portOf(mute) }, ['k'], sink, { timeoutMs: 200 }),
      ).rejects.toThrow(/no progress/);
      await expect(readAll({ ...endpoint, port: portOf(hangsUp) }, ['k'])).rejects.toThrow(/closed/);
    } finally {
      await Promise.all([mute, hangsUp].map((s) => new Promise((r) => s.close(r))));
    }
  });

  it('stops when the sink says so, and reads nothing for no keys', async () => {
    const keys = [freshKey(), freshKey()];
    await client.set(keys[0] as string, 'first');
    await client.set(keys[1] as string, 'second');
    const begun: number[] = [];
    const stopAtSecond: BulkSink = {
      begin: (i) => {
        begun.push(i);
        return i === 0;
      },
      bytes: () => undefined,
    };
    expect(await readValues(endpoint, keys, stopAtSecond, { timeoutMs: 10_000 })).toBe('stopped');
    expect(begun).toEqual([0, 1]);
    expect(await readValues(endpoint, [], stopAtSecond, { timeoutMs: 10_000 })).toBe('done');
  });
});

describe('GraphSnapshotCache with its own connection', () => {
  /** A cache whose loads read over `at` and log to `lines`. */
  function cacheReadingAt(
    prefix: string,
    at: () => BulkEndpoint | undefined,
    lines: string[],
  ): GraphSnapshotCache {
    const logger = createLogger('debug', { write: (line: string) => lines.push(line) });
    return new GraphSnapshotCache({
      redis: client,
      keyPrefix: prefix,
      chunkBytes: 1000,
      bulkEndpoint: at,
      logger,
    });
  }
  const bytes = randomBytes(4321);
  const key = { schemaHash: 'h', epoch: 'e', revision: 3 };

  it('loads over its own connection without falling back', async () => {
    const lines: string[] = [];
    const connectionsBefore = Number(
      /total_connections_received:(\d+)/.exec(await redis.cli('INFO', 'stats'))?.[1],
    );
    const cache = cacheReadingAt('{gatehouse:bulk1}', () => endpoint, lines);
    await cache.publish(key, [bytes]);
    const loaded = await cache.loadNewest('h', 'e');
    expect(loaded.status === 'hit' && Buffer.concat(loaded.chunks)).toEqual(bytes);
    expect(lines.filter((l) => l.includes('reading through the client'))).toEqual([]);
    // The load opened a connection (redis-cli's INFO is one more).
    const connectionsAfter = Number(
      /total_connections_received:(\d+)/.exec(await redis.cli('INFO', 'stats'))?.[1],
    );
    expect(connectionsAfter - connectionsBefore).toBe(2);
  });

  it('falls back to the client when its own connection fails or reads other bytes', async () => {
    const lines: string[] = [];
    const deadPort = await freePort();
    const cache = cacheReadingAt('{gatehouse:bulk2}', () => ({ ...endpoint, port: deadPort }), lines);
    await cache.publish(key, [bytes]);
    const loaded = await cache.loadNewest('h', 'e');
    expect(loaded.status === 'hit' && Buffer.concat(loaded.chunks)).toEqual(bytes);
    expect(lines.some((l) => l.includes('failed; reading through the client'))).toBe(true);

    // Another Redis holding the same keys with one byte changed: the own connection's read fails
    // its checksum, and the client's read (the real store) decides.
    const other = await RedisServer.start();
    try {
      const otherClient = new Redis(other.port, '127.0.0.1');
      const source = cacheReadingAt('{gatehouse:bulk3}', () => ({ ...endpoint, port: other.port }), []);
      await source.publish(key, [bytes]);
      for (const k of await client.keys('{gatehouse:bulk3}*')) {
        const type = await client.type(k);
        if (type === 'string') {
          const value = Buffer.from((await client.getBuffer(k))!);
          if (k.endsWith(':c:2')) value[9] = (value[9]! + 1) % 256;
          await otherClient.set(k, value);
        }
      }
      otherClient.disconnect();
      const refused: string[] = [];
      const cache3 = cacheReadingAt('{gatehouse:bulk3}', () => ({ ...endpoint, port: other.port }), refused);
      const again = await cache3.loadNewest('h', 'e');
      expect(again.status === 'hit' && Buffer.concat(again.chunks)).toEqual(bytes);
      expect(refused.some((l) => l.includes('checksum mismatch') && l.includes('refused'))).toBe(true);
    } finally {
      await other.stop();
    }
  });
});
