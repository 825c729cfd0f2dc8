// HttpTransport: the Transport over Gatehouse's HTTP/JSON API, using fetch (Node's, undici's or yours).

import { onAbort } from '../abort.js';
import { CancelledError, InternalError } from '../errors.js';
import { authorizationHeader } from '../headers.js';
import type {
  StreamMethod,
  Transport,
  TransportCallOptions,
  UnaryMethod,
  WireMessage,
} from '../transport.js';
import { type FailureContext, malformedResponse, mapHttpFailure } from './errors.js';
import { readNdjson } from './ndjson.js';

/** What the transport passes to fetch: a subset of `RequestInit` every fetch accepts. */
export interface FetchInit {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal: AbortSignal;
  /** `HttpTransportOptions.dispatcher` as given: its type is whatever your fetch takes (undici: a Dispatcher). */
  // biome-ignore lint/suspicious/noExplicitAny: any fetch's own dispatcher type must fit here
  readonly dispatcher?: any;
}

/** What the transport reads of fetch's answer: a subset of `Response` every fetch returns. */
export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
  readonly body: ReadableStream<Uint8Array> | null;
}

/**
 * The fetch signature the transport needs. Node's global fetch, undici's `fetch` (whose
 * `RequestInit` and `Response` are undici's own types) and most wrappers fit as they are.
 * Declared as a method so its parameters compare bivariantly: undici's `dispatcher` is its
 * `Dispatcher`, ours is whatever you pass as `dispatcher`.
 */
export type FetchLike = {
  fetch(input: string, init: FetchInit): Promise<FetchResponse>;
}['fetch'];

export interface HttpTransportOptions {
  /** Where the server listens, e.g. `http://127.0.0.1:8080`. With `socketPath`, the host part is only sent as Host. */
  readonly baseUrl: string;
  /** Bearer token for writes and admin calls. */
  readonly token?: string | undefined;
  /** fetch to use (default: the global fetch). */
  readonly fetch?: FetchLike | undefined;
  /** Passed to fetch as `dispatcher`, e.g. an undici `Agent` with your connection settings. */
  readonly dispatcher?: unknown;
  /**
   * Connect to a unix socket instead of TCP. Needs the optional `undici` package: its
   * `fetch` and an `Agent({ connect: { socketPath } })` are loaded on first use.
   */
  readonly socketPath?: string | undefined;
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

const PATHS: Readonly<Record<UnaryMethod | StreamMethod, string>> = {
  Check: '/v1/check',
  CheckBatch: '/v1/check/batch',
  LookupResources: '/v1/lookup/resources',
  LookupSubjects: '/v1/lookup/subjects',
  Explain: '/v1/explain',
  WriteRelationships: '/v1/relationships/write',
  DeleteRelationships: '/v1/relationships/delete',
  DeleteObject: '/v1/objects/delete',
  ReadRelationships: '/v1/relationships/read',
  ReadSchema: '/v1/schema',
  ValidatePolicies: '/v1/policies/validate',
  ReloadPolicies: '/v1/admin/reload',
  Watch: '/v1/watch',
};

interface Exchange {
  readonly response: FetchResponse;
  readonly ctx: FailureContext;
  /** Stops the exchange's timer and listeners; call once the body is consumed. */
  readonly done: () => void;
}

/** The Transport over HTTP/JSON. Prefer `createHttpTransport`. */
export class HttpTransport implements Transport {
  readonly #baseUrl: string;
  readonly #headers: Record<string, string>;
  #fetch: Promise<{ fetch: FetchLike; dispatcher: unknown }> | undefined;
  readonly #options: HttpTransportOptions;
  // In-flight exchanges, aborted by close(). A Set, not listeners on one shared signal:
  // thousands of concurrent calls would trip Node's listener-leak warning.
  readonly #inFlight = new Set<AbortController>();
  #closed = false;

  constructor(options: HttpTransportOptions) {
    this.#options = options;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#headers = { accept: 'application/json', ...options.headers };
    const authorization = authorizationHeader(options.token);
    if (authorization !== undefined) this.#headers.authorization = authorization;
  }

  unary(method: UnaryMethod, request: WireMessage, options: TransportCallOptions): Promise<WireMessage> {
    return this.#call(method, request, options);
  }

  serverStream(
    method: StreamMethod,
    request: WireMessage,
    options: TransportCallOptions,
  ): AsyncIterable<WireMessage> {
    return method === 'Watch' ? this.#watch(request, options) : this.#pages(method, request, options);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const controller of this.#inFlight) controller.abort();
    this.#inFlight.clear();
    const loaded = this.#fetch === undefined ? undefined : await this.#fetch.catch(() => undefined);
    const agent = loaded?.dispatcher as { close?: () => Promise<void> } | undefined;
    if (this.#options.socketPath !== undefined) await agent?.close?.();
  }

  // HTTP answers one page per call; follow `nextCursor` so callers see the same stream as over gRPC.
  async *#pages(
    method: StreamMethod,
    request: WireMessage,
    options: TransportCallOptions,
  ): AsyncIterable<WireMessage> {
    let next: WireMessage = request;
    for (;;) {
      const page = await this.#call(method, next, options);
      yield page;
      const cursor = typeof page.nextCursor === 'string' ? page.nextCursor : '';
      if (cursor === '') return;
      next = { ...request, cursor };
    }
  }

  async #call(
    method: UnaryMethod | StreamMethod,
    request: WireMessage,
    options: TransportCallOptions,
  ): Promise<WireMessage> {
    const exchange = await this.#exchange(method, request, options);
    try {
      return await readJson(exchange);
    } catch (err) {
      throw this.#closed ? this.#closedError(exchange.ctx.url) : err;
    } finally {
      exchange.done();
    }
  }

  async *#watch(request: WireMessage, options: TransportCallOptions): AsyncIterable<WireMessage> {
    let exchange: Exchange;
    try {
      exchange = await this.#exchange('Watch', request, options, 'application/x-ndjson');
    } catch (err) {
      // As over gRPC: a watch whose signal aborted (even before it started) ends quietly.
      if (options.signal?.aborted) return;
      throw err;
    }
    const body = exchange.response.body;
    try {
      if (body === null) return;
      const malformed = (_line: string, cause: unknown): Error => malformedResponse(exchange.ctx.url, cause);
      for await (const message of readNdjson(body, malformed)) yield message as WireMessage;
    } catch (err) {
      if (options.signal?.aborted) return; // the caller stopped watching: not an error
      if (this.#closed) throw this.#closedError(exchange.ctx.url);
      throw err instanceof InternalError ? err : mapHttpFailure({ kind: 'thrown', error: err }, exchange.ctx);
    } finally {
      exchange.done();
    }
  }

  async #exchange(
    method: UnaryMethod | StreamMethod,
    request: WireMessage,
    options: TransportCallOptions,
    accept?: string,
  ): Promise<Exchange> {
    const url = `${this.#baseUrl}${PATHS[method]}`;
    if (this.#closed) throw this.#closedError(url);
    let timedOut = false;
    const ctx: FailureContext = {
      url,
      deadline: options.deadline,
      signal: options.signal,
      timedOut: () => timedOut,
    };
    const headers: Record<string, string> = { ...this.#headers };
    if (accept !== undefined) headers.accept = accept;
    if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
    if (options.traceContext !== undefined) Object.assign(headers, options.traceContext);
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    const unsubscribe = options.signal === undefined ? undefined : onAbort(options.signal, abort);
    this.#inFlight.add(controller);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      unsubscribe?.();
      this.#inFlight.delete(controller);
    };
    if (options.deadline !== undefined) {
      const remaining = options.deadline - Date.now();
      headers['gatehouse-timeout-ms'] = String(Math.max(1, Math.ceil(remaining)));
      timer = setTimeout(
        () => {
          timedOut = true;
          abort();
        },
        Math.max(0, remaining),
      );
    }
    if (options.signal?.aborted || (options.deadline !== undefined && Date.now() >= options.deadline)) {
      done();
      throw mapHttpFailure({ kind: 'thrown', error: new Error('aborted before sending') }, ctx);
    }
    const isGet = method === 'ReadSchema';
    if (!isGet) headers['content-type'] = 'application/json';
    let response: FetchResponse;
    try {
      const { fetch, dispatcher } = await this.#loadFetch();
      const init: FetchInit = {
        method: isGet ? 'GET' : 'POST',
        headers,
        signal: controller.signal,
        ...(isGet ? {} : { body: JSON.stringify(request) }),
        ...(dispatcher === undefined ? {} : { dispatcher }),
      };
      response = await fetch(url, init);
    } catch (err) {
      done();
      throw this.#closed ? this.#closedError(url) : mapHttpFailure({ kind: 'thrown', error: err }, ctx);
    }
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      done();
      throw mapHttpFailure({ kind: 'status', status: response.status, body }, ctx);
    }
    return { response, ctx, done };
  }

  #closedError(url: string): CancelledError {
    return new CancelledError(`the client was closed; create a new one to call ${url}`);
  }

  #loadFetch(): Promise<{ fetch: FetchLike; dispatcher: unknown }> {
    this.#fetch ??= this.#resolveFetch();
    return this.#fetch;
  }

  async #resolveFetch(): Promise<{ fetch: FetchLike; dispatcher: unknown }> {
    const { socketPath } = this.#options;
    if (socketPath === undefined) {
      return {
        fetch: this.#options.fetch ?? (globalThis.fetch as FetchLike),
        dispatcher: this.#options.dispatcher,
      };
    }
    // undici is optional: only unix-socket users pay for loading it.
    const undici = await import('undici').catch((err: unknown) => {
      throw new InternalError("socketPath needs the 'undici' package: npm install undici", { cause: err });
    });
    return {
      fetch: this.#options.fetch ?? (undici.fetch as unknown as FetchLike),
      dispatcher: this.#options.dispatcher ?? new undici.Agent({ connect: { socketPath } }),
    };
  }
}

async function readJson(exchange: Exchange): Promise<WireMessage> {
  let text: string;
  try {
    text = await exchange.response.text();
  } catch (err) {
    throw mapHttpFailure({ kind: 'thrown', error: err }, exchange.ctx);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) throw new TypeError('not an object');
    return parsed as WireMessage;
  } catch (err) {
    throw malformedResponse(exchange.ctx.url, err);
  }
}
