// Test support: a scripted Gatehouse backend that the fake gRPC and HTTP servers both serve.
import type { ErrorCode } from '../errors.js';
import type { StreamMethod, UnaryMethod, WireMessage } from '../transport.js';

/** An error a fake handler throws; each fake server renders it the way the real server would. */
export class FakeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** What a handler sees of a request. */
export interface FakeCall {
  readonly method: UnaryMethod | StreamMethod;
  readonly request: WireMessage;
  /** Lower-cased header / metadata names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Remaining milliseconds the client allowed, when it sent a deadline. */
  readonly timeoutMs: number | undefined;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

export type UnaryHandler = (call: FakeCall) => WireMessage | Promise<WireMessage>;
export type StreamHandler = (call: FakeCall) => AsyncIterable<WireMessage>;

export interface FakeBackend {
  readonly unary?: Partial<Record<UnaryMethod, UnaryHandler>>;
  readonly stream?: Partial<Record<StreamMethod, StreamHandler>>;
}

/** A running fake server, with every call it received. */
export interface FakeServer {
  readonly calls: FakeCall[];
  /** `host:port` for gRPC, `http://host:port` for HTTP. */
  readonly address: string;
  close(): Promise<void>;
  /** Drop every connection at once, calls in progress included, and stop listening. */
  kill(): void;
}

/** Resolve after `ms`, or when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
