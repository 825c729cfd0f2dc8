// Optional OpenTelemetry tracing: one SERVER span per request, child of the caller's W3C
// `traceparent` (HTTP header or gRPC metadata), with the decision as attributes. Uses only
// @opentelemetry/api: the deployer registers a tracer provider (an SDK with an exporter); off,
// the transports hold no RequestTracing and create no span and read no header.
import {
  type Attributes,
  type Context,
  createTraceState,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Outcome, TransportName } from './metrics.js';

/** `version-traceid-parentid-flags`, lower-case hex (W3C Trace Context, level 1). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/**
 * The caller's span context from a `traceparent` value, or undefined when absent or malformed
 * (a malformed header starts a new trace, as the spec asks, rather than failing the request).
 */
export function parentFromTraceparent(traceparent: string | undefined, tracestate?: string): Context {
  if (traceparent === undefined) return ROOT_CONTEXT;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (m === null) return ROOT_CONTEXT;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  // Version ff is invalid; version 00 has nothing after the flags; later versions may add fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return ROOT_CONTEXT;
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(tracestate === undefined || tracestate === '' ? {} : { traceState: createTraceState(tracestate) }),
  });
}

/** The request span the transports hold: `end` once with the outcome, or `fail` with the code. */
export interface RequestSpan {
  /** The request message (wire form) decoded: reads permission and resource type from it. */
  request(message: unknown): void;
  end(outcome: Outcome): void;
  fail(code: string, message: string): void;
}

/** Starts request spans; the transports get one only when tracing is on. */
export class RequestTracing {
  readonly #tracer: Tracer;

  constructor(tracer: Tracer = trace.getTracer('gatehouse')) {
    this.#tracer = tracer;
  }

  /** A span for one call of `method`, child of the caller's `traceparent` when it sent one. */
  start(
    transport: TransportName,
    method: string,
    traceparent: string | undefined,
    tracestate: string | undefined,
    requestId: string | undefined,
  ): RequestSpan {
    const attributes: Attributes = {
      'rpc.system': transport === 'grpc' ? 'grpc' : 'gatehouse_http',
      'rpc.service': 'gatehouse',
      'rpc.method': method,
      'gatehouse.transport': transport,
    };
    if (requestId !== undefined) attributes['gatehouse.request_id'] = requestId;
    const span = this.#tracer.startSpan(
      `gatehouse/${method}`,
      { kind: SpanKind.SERVER, attributes },
      parentFromTraceparent(traceparent, tracestate),
    );
    return new OpenRequestSpan(span);
  }
}

class OpenRequestSpan implements RequestSpan {
  readonly #span: Span;
  #ended = false;

  constructor(span: Span) {
    this.#span = span;
  }

  request(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const m = message as Record<string, unknown>;
    if (typeof m.permission === 'string') this.#span.setAttribute('gatehouse.permission', m.permission);
    const resource = m.resource as Record<string, unknown> | undefined;
    const type = resource?.objectType ?? m.resourceObjectType;
    if (typeof type === 'string') this.#span.setAttribute('gatehouse.resource_type', type);
    if (Array.isArray(m.items)) this.#span.setAttribute('gatehouse.batch_size', m.items.length);
  }

  end(outcome: Outcome): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#span.setAttribute('gatehouse.outcome', outcome);
    if (outcome === 'allowed' || outcome === 'denied' || outcome === 'conditional')
      this.#span.setAttribute('gatehouse.allowed', outcome === 'allowed');
    this.#span.end();
  }

  fail(code: string, message: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#span.setAttribute('gatehouse.outcome', 'error');
    this.#span.setAttribute('gatehouse.error_code', code);
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message });
    this.#span.end();
  }
}
