// Reads large Redis values (compiled-graph snapshot chunks) over a connection of its own whose
// socket reads into one buffer it reuses (net.Socket `onread`), handing each value's bytes to the
// caller as views of that buffer, to be copied where they belong.
//
// Why not the client library: ioredis, like any stream reader in Node, reads a socket into a fresh
// 64 KiB buffer per read. glibc serves buffers that size from its heap, and the ~500 reads of a
// 1M-relationship snapshot (33 MB) left ~16 MB there that the process could not give back once
// small allocations had landed between them: a replica's RSS after a snapshot load went from
// ~122 to ~137 MB with it (bench/RESULTS.md, footprint). This reader allocates one buffer per
// load, whatever the snapshot's size.
//
// Plain TCP only, one command at a time per value (GET), a bounded number in flight. Anything
// unexpected (an error reply, a closed socket, a timeout) rejects with a BulkReadError, and the
// caller falls back to the client's own reads: this reader can make a load cheaper, never change
// what it returns.
import { connect, type Socket } from 'node:net';

/** Where to read from and how to log in (no TLS: a TLS connection reads through the client). */
export interface BulkEndpoint {
  readonly host: string;
  readonly port: number;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly db: number;
}

/** Receives the values of the keys read, in key order. */
export interface BulkSink {
  /** Value `index` begins: `length` bytes follow, or null when the key does not exist. False stops the read. */
  begin(index: number, length: number | null): boolean;
  /** The next bytes of the current value: a view valid only during the call (copy what you keep). */
  bytes(view: Uint8Array): void;
}

export interface BulkReadOptions {
  /** No progress (connect, login or bytes) for this long fails the read. */
  readonly timeoutMs: number;
  /** GETs sent ahead of the replies (bounds the output Redis buffers for this client). Default 8. */
  readonly inFlight?: number | undefined;
  /** The one buffer every socket read lands in. Default 256 KiB. */
  readonly readBufferBytes?: number | undefined;
}

export class BulkReadError extends Error {
  override readonly name = 'BulkReadError';
}

/** A value header is `$<length>\r\n`; a handshake reply `+OK\r\n`; anything longer is not ours. */
const MAX_HEADER = 512;
const CR = 13;
const LF = 10;

/** Encodes one command as a RESP array of bulk strings. */
function command(args: readonly string[]): Buffer {
  let text = `*${args.length}\r\n`;
  for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return Buffer.from(text);
}

/**
 * GETs every key on `endpoint` and streams the values to `sink`. Resolves 'done' after the last
 * value, 'stopped' when the sink stopped the read; rejects with a BulkReadError otherwise.
 */
export function readValues(
  endpoint: BulkEndpoint,
  keys: readonly string[],
  sink: BulkSink,
  options: BulkReadOptions,
): Promise<'done' | 'stopped'> {
  const inFlight = Math.max(1, options.inFlight ?? 8);
  const handshake: string[][] = [];
  if (endpoint.password !== undefined) {
    handshake.push(
      endpoint.username === undefined
        ? ['AUTH', endpoint.password]
        : ['AUTH', endpoint.username, endpoint.password],
    );
  }
  if (endpoint.db !== 0) handshake.push(['SELECT', String(endpoint.db)]);

  return new Promise((resolve, reject) => {
    let settled = false;
    let socket: Socket | undefined;
    const finish = (outcome: 'done' | 'stopped' | BulkReadError): void => {
      if (settled) return;
      settled = true;
      socket?.destroy();
      if (outcome instanceof BulkReadError) reject(outcome);
      else resolve(outcome);
    };
    if (keys.length === 0) {
      finish('done');
      return;
    }

    // Replies expected, in order: one '+' per handshake command, then one '$' per key.
    let handshakeLeft = handshake.length;
    let nextKey = 0; // the next GET to send
    let valueIndex = 0; // the value whose reply is being read
    let header = '';
    let bodyLeft = -1; // >= 0 while inside a value's bytes
    let trailerLeft = 0; // the \r\n after a value

    const sendGets = (): void => {
      while (nextKey < keys.length && nextKey - valueIndex < inFlight) {
        socket?.write(command(['GET', keys[nextKey] as string]));
        nextKey += 1;
      }
    };

    const replyDone = (): void => {
      valueIndex += 1;
      if (valueIndex === keys.length) finish('done');
      else sendGets();
    };

    const onHeader = (line: string): void => {
      const kind = line.charCodeAt(0);
      if (kind === 45 /* - */) throw new BulkReadError(`Redis replied ${line.slice(1, 200)}`);
      if (handshakeLeft > 0) {
        if (kind !== 43 /* + */) throw new BulkReadError('unexpected reply to the login');
        handshakeLeft -= 1;
        return;
      }
      if (kind !== 36 /* $ */) throw new BulkReadError('unexpected reply to GET');
      const length = Number(line.slice(1));
      if (!Number.isSafeInteger(length) || length < -1) throw new BulkReadError('bad value length');
      if (!sink.begin(valueIndex, length === -1 ? null : length)) {
        finish('stopped');
        return;
      }
      if (length === -1) {
        replyDone();
        return;
      }
      bodyLeft = length;
      trailerLeft = 2;
    };

    const consume = (buffer: Uint8Array, end: number): void => {
      let at = 0;
      while (at < end && !settled) {
        if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, end - at);
          sink.bytes(buffer.subarray(at, at + take));
          bodyLeft -= take;
          at += take;
        } else if (bodyLeft === 0) {
          // The value's closing \r\n.
          const byte = buffer[at] as number;
          if (byte !== (trailerLeft === 2 ? CR : LF)) throw new BulkReadError('value not followed by CRLF');
          at += 1;
          trailerLeft -= 1;
          if (trailerLeft === 0) {
            bodyLeft = -1;
            replyDone();
          }
        } else {
          const newline = buffer.indexOf(LF, at);
          const stop = newline === -1 || newline >= end ? end : newline + 1;
          header += Buffer.from(buffer.buffer, buffer.byteOffset + at, stop - at).toString('latin1');
          at = stop;
          if (header.length > MAX_HEADER) throw new BulkReadError('reply header too long');
          if (header.endsWith('\r\n')) {
            const line = header.slice(0, -2);
            header = '';
            onHeader(line);
          }
        }
      }
    };

    socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      noDelay: true,
      onread: {
        buffer: Buffer.allocUnsafeSlow(options.readBufferBytes ?? 256 * 1024),
        callback: (nread: number, buffer: Uint8Array): boolean => {
          try {
            consume(buffer, nread);
          } catch (err) {
            finish(err instanceof BulkReadError ? err : new BulkReadError(String(err)));
          }
          return !settled;
        },
      },
    });
    socket.setTimeout(options.timeoutMs, () =>
      finish(new BulkReadError(`no progress for ${options.timeoutMs} ms`)),
    );
    socket.on('error', (err) => finish(new BulkReadError(err.message)));
    const closed = (): void => finish(new BulkReadError('connection closed before the last value'));
    socket.on('end', closed);
    socket.on('close', closed);
    // With `onread` no data reaches the stream, but its end of input does, and only while it flows.
    socket.resume();
    socket.on('connect', () => {
      for (const args of handshake) socket?.write(command(args));
      sendGets();
    });
  });
}
