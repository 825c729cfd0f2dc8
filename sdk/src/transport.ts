// The Transport interface: the two ways the core client talks to a server, independent of gRPC or HTTP.

/** Unary RPCs of `gatehouse.v1.GatehouseService`. */
export type UnaryMethod =
  | 'Check'
  | 'CheckBatch'
  | 'LookupSubjects'
  | 'Explain'
  | 'WriteRelationships'
  | 'DeleteRelationships'
  | 'DeleteObject'
  | 'ReadRelationships'
  | 'ReadSchema'
  | 'ValidatePolicies'
  | 'ReloadPolicies';

/** Server-streaming RPCs of `gatehouse.v1.GatehouseService`. */
export type StreamMethod = 'LookupResources' | 'Watch';

/**
 * A request or response message in its proto3 JSON form: camelCase fields, enums as their
 * names, uint64 as decimal strings, oneof members as plain fields, default values omitted or
 * present. Both transports speak this form, so the core converts public types exactly once.
 */
export type WireMessage = { readonly [field: string]: unknown };

/** Per-call options the core passes down; the transport enforces them. */
export interface TransportCallOptions {
  /** Absolute deadline in epoch milliseconds; the call fails with DeadlineExceededError after it. */
  readonly deadline?: number | undefined;
  /** Aborts the call with CancelledError. */
  readonly signal?: AbortSignal | undefined;
  /** Sent as `x-request-id`. */
  readonly requestId?: string | undefined;
  /**
   * Trace-context headers of the caller's OpenTelemetry span (W3C `traceparent`, `tracestate`),
   * lower-case names: sent as HTTP headers or gRPC metadata, as they are.
   */
  readonly traceContext?: Readonly<Record<string, string>> | undefined;
}

/**
 * How the core client reaches a Gatehouse server. Implementations only convert and send:
 * they never retry, batch or interpret results.
 *
 * Contract: every failure rejects (or throws from the iterator) with a `GatehouseError`
 * mapped from the wire in exactly one function of the implementation; a connection that
 * cannot be made is `UNAVAILABLE`; an aborted signal is `CANCELLED`; a passed deadline is
 * `DEADLINE_EXCEEDED`.
 */
export interface Transport {
  /** Send one request and resolve with its one response. */
  unary(method: UnaryMethod, request: WireMessage, options: TransportCallOptions): Promise<WireMessage>;
  /**
   * Yield each response message in order. `LookupResources` yields every page to the end,
   * whatever the transport's paging mechanism; `Watch` yields until the signal aborts (the
   * iterator then returns without error) or the server ends or drops the stream. Breaking
   * out of the loop cancels the call.
   */
  serverStream(
    method: StreamMethod,
    request: WireMessage,
    options: TransportCallOptions,
  ): AsyncIterable<WireMessage>;
  /** Release connections; later calls fail. */
  close(): Promise<void>;
}
