// GrpcTransport: the Transport over gRPC, using grpc-js and the proto shipped in the package.
import {
  type CallOptions,
  type ChannelCredentials,
  Client,
  type ClientOptions,
  type ClientUnaryCall,
  credentials,
  Metadata,
} from '@grpc/grpc-js';
import { onAbort } from '../abort.js';
import { CancelledError } from '../errors.js';
import { authorizationHeader } from '../headers.js';
import type {
  StreamMethod,
  Transport,
  TransportCallOptions,
  UnaryMethod,
  WireMessage,
} from '../transport.js';
import { type FailureContext, mapGrpcError } from './errors.js';
import { type Codecs, loadCodecs } from './proto.js';

/** TLS settings: `true` uses the system roots; PEM buffers add a CA and/or a client certificate (mTLS). */
export type GrpcTlsOptions =
  | boolean
  | {
      readonly rootCerts?: Buffer | undefined;
      readonly privateKey?: Buffer | undefined;
      readonly certChain?: Buffer | undefined;
    };

export interface GrpcTransportOptions {
  /** `host:port` or `unix:/path/to.sock`. */
  readonly address: string;
  /** Bearer token for writes and admin calls. */
  readonly token?: string | undefined;
  /** Plaintext when omitted or false (a sidecar on loopback); see GrpcTlsOptions. */
  readonly tls?: GrpcTlsOptions | undefined;
  /** grpc-js channel options, e.g. `{ 'grpc.keepalive_time_ms': 30000 }`. */
  readonly channelOptions?: ClientOptions | undefined;
  /** Load this .proto instead of the one shipped in the package. */
  readonly protoPath?: string | undefined;
}

function channelCredentials(tls: GrpcTlsOptions | undefined): ChannelCredentials {
  if (tls === undefined || tls === false) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  return credentials.createSsl(tls.rootCerts ?? null, tls.privateKey ?? null, tls.certChain ?? null);
}

/** The Transport over gRPC. Prefer `createGrpcTransport`. */
export class GrpcTransport implements Transport {
  readonly #client: Client;
  readonly #codecs: Codecs;
  readonly #authorization: string | undefined;
  readonly #address: string;
  #closed = false;
  // Streams in progress, cancelled by close(): a channel's close leaves its calls running.
  readonly #streams = new Set<{ cancel(): void }>();

  constructor(options: GrpcTransportOptions) {
    this.#address = options.address;
    this.#authorization = authorizationHeader(options.token);
    this.#codecs = loadCodecs(options.protoPath);
    this.#client = new Client(options.address, channelCredentials(options.tls), options.channelOptions);
  }

  unary(method: UnaryMethod, request: WireMessage, options: TransportCallOptions): Promise<WireMessage> {
    const codec = this.#codecs[method];
    const ctx = this.#context(options);
    if (this.#closed) return Promise.reject(this.#closedError());
    return new Promise<WireMessage>((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(mapGrpcError(undefined, ctx));
        return;
      }
      // Declared before the call: grpc-js may report a failure before makeUnaryRequest returns.
      let call: ClientUnaryCall | undefined;
      let unsubscribe: (() => void) | undefined;
      let settled = false;
      call = this.#client.makeUnaryRequest(
        codec.path,
        codec.serialize,
        codec.deserialize,
        request,
        this.#metadata(options),
        this.#callOptions(options),
        (err, response) => {
          settled = true;
          unsubscribe?.();
          if (err !== null || response === undefined) reject(mapGrpcError(err, ctx));
          else resolve(response);
        },
      );
      if (options.signal !== undefined && !settled)
        unsubscribe = onAbort(options.signal, () => call?.cancel());
    });
  }

  async *serverStream(
    method: StreamMethod,
    request: WireMessage,
    options: TransportCallOptions,
  ): AsyncIterable<WireMessage> {
    const codec = this.#codecs[method];
    const ctx = this.#context(options);
    if (this.#closed) throw this.#closedError();
    if (options.signal?.aborted) {
      if (method === 'Watch') return;
      throw mapGrpcError(undefined, ctx);
    }
    const call = this.#client.makeServerStreamRequest(
      codec.path,
      codec.serialize,
      codec.deserialize,
      request,
      this.#metadata(options),
      this.#callOptions(options),
    );
    const unsubscribe =
      options.signal === undefined ? undefined : onAbort(options.signal, () => call.cancel());
    this.#streams.add(call);
    try {
      for await (const message of call) yield message as WireMessage;
    } catch (err) {
      if (method === 'Watch' && options.signal?.aborted) return; // the caller stopped watching
      if (this.#closed) throw this.#closedError();
      throw mapGrpcError(err, ctx);
    } finally {
      this.#streams.delete(call);
      unsubscribe?.();
      call.cancel(); // no-op after a clean end; stops the server when the consumer breaks early
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const stream of this.#streams) stream.cancel();
    this.#client.close();
  }

  #closedError(): CancelledError {
    return new CancelledError(`the client was closed; create a new one to call ${this.#address}`);
  }

  #context(options: TransportCallOptions): FailureContext {
    return { address: this.#address, deadline: options.deadline, signal: options.signal };
  }

  #metadata(options: TransportCallOptions): Metadata {
    const metadata = new Metadata();
    if (this.#authorization !== undefined) metadata.set('authorization', this.#authorization);
    if (options.requestId !== undefined) metadata.set('x-request-id', options.requestId);
    for (const [key, value] of Object.entries(options.traceContext ?? {})) metadata.set(key, value);
    return metadata;
  }

  #callOptions(options: TransportCallOptions): CallOptions {
    return options.deadline === undefined ? {} : { deadline: new Date(options.deadline) };
  }
}
