// OpenTelemetry request spans against a real server on port 0, recorded by an in-memory exporter:
// one SERVER span per request over HTTP and gRPC, the caller's W3C traceparent as parent, the
// decision as attributes; streams (Watch, LookupResources) one span each that ends when the
// stream ends; and no span at all when tracing is off.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterEach, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type GatehouseConfig } from '../../server/src/config/config.js';
import { parentFromTraceparent, RequestTracing } from '../../server/src/observability/tracing.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { GatehouseServer } from '../../server/src/transport/gatehouse-server.js';
import { PROTO_PATH } from '../../server/src/transport/grpc/proto.js';
import { fixturePolicySet } from '../service/fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: wire messages are dynamic JSON
type Any = Record<string, any>;

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(options: { tracing?: RequestTracing; otel?: boolean } = {}) {
  const set = fixturePolicySet();
  const config: GatehouseConfig = {
    ...DEFAULT_CONFIG,
    http: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    grpc: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    otel: options.otel ?? false,
  };
  const server = await GatehouseServer.start({
    config,
    schema: set.schema,
    store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
    logger: pino({ level: 'silent' }),
    tracing: options.tracing,
  });
  cleanups.push(() => server.stop(1000));
  const pkg = grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO_PATH, {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  ) as Any;
  const client = new pkg.gatehouse.v1.GatehouseService(server.grpcAddress, grpc.credentials.createInsecure());
  cleanups.push(() => client.close());
  const grpcCheck = (req: Any, md: Record<string, string>): Promise<Any> =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(md)) metadata.set(k, v);
      client.Check(req, metadata, (err: grpc.ServiceError | null, res: Any) =>
        err ? reject(err) : resolve(res),
      );
    });
  const httpPost = (path: string, body: unknown, headers: Record<string, string>): Promise<Response> =>
    fetch(`http://${server.httpAddress}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const grpcStream = (
    method: string,
    req: Any,
    md: Record<string, string>,
  ): grpc.ClientReadableStream<Any> => {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(md)) metadata.set(k, v);
    return client[method](req, metadata) as grpc.ClientReadableStream<Any>;
  };
  return { server, grpcCheck, httpPost, grpcStream };
}

/** A write the open watches will report. */
let writes = 0;
async function touch(server: GatehouseServer): Promise<void> {
  await server.service.writeRelationships(
    {
      updates: [
        {
          operation: 'touch',
          relationship: {
            resource: { type: 'document', id: 'plan' },
            relation: 'viewer',
            subject: { type: 'user', id: `w${++writes}` },
          },
        },
      ],
    },
    { deadline: Date.now() + 30_000 },
  );
}

// Generous: the span ends on the server's next turns after the stream does; this only bounds a hang.
const SETTLED = { timeout: 30_000, interval: 20 };

function recorder() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  cleanups.push(() => provider.shutdown());
  return { exporter, provider, tracing: new RequestTracing(provider.getTracer('gatehouse-test')) };
}

const ref = (t: string, id: string) => ({ objectType: t, objectId: id });
const check = (permission: string, user: string) => ({
  resource: ref('document', 'plan'),
  permission,
  subject: { object: ref('user', user) },
});

it('makes one span per HTTP request, child of the traceparent header, with the decision', async () => {
  const { exporter, tracing } = recorder();
  const { httpPost } = await start({ tracing });
  const res = await httpPost('/v1/check', check('view', 'alice'), {
    traceparent: TRACEPARENT,
    'x-request-id': 'req-9',
  });
  expect(res.status).toBe(200);
  const denied = await httpPost('/v1/check', check('edit', 'alice'), {});
  expect(denied.status).toBe(200);
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(2);
  const [first, second] = spans;
  expect(first!.name).toBe('gatehouse/Check');
  expect(first!.kind).toBe(SpanKind.SERVER);
  expect(first!.spanContext().traceId).toBe(TRACE_ID);
  expect(first!.parentSpanContext?.spanId).toBe(PARENT_ID);
  expect(first!.parentSpanContext?.isRemote).toBe(true);
  expect(first!.attributes).toMatchObject({
    'gatehouse.transport': 'http',
    'rpc.method': 'Check',
    'gatehouse.permission': 'view',
    'gatehouse.resource_type': 'document',
    'gatehouse.allowed': true,
    'gatehouse.outcome': 'allowed',
    'gatehouse.request_id': 'req-9',
  });
  // Without a traceparent the span starts a trace of its own.
  expect(second!.parentSpanContext).toBeUndefined();
  expect(second!.spanContext().traceId).not.toBe(TRACE_ID);
  expect(second!.attributes).toMatchObject({ 'gatehouse.allowed': false, 'gatehouse.permission': 'edit' });
});

it('makes one span per gRPC call, child of the traceparent metadata, and marks failures', async () => {
  const { exporter, tracing } = recorder();
  const { grpcCheck } = await start({ tracing });
  const res = await grpcCheck(check('view', 'alice'), { traceparent: TRACEPARENT });
  expect(res.permissionship).toBe('PERMISSIONSHIP_HAS_PERMISSION');
  await expect(grpcCheck(check('fly', 'alice'), { traceparent: TRACEPARENT })).rejects.toMatchObject({
    code: grpc.status.INVALID_ARGUMENT,
  });
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(2);
  for (const s of spans) {
    expect(s.spanContext().traceId).toBe(TRACE_ID);
    expect(s.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(s.attributes['gatehouse.transport']).toBe('grpc');
  }
  expect(spans[0]!.attributes).toMatchObject({
    'gatehouse.allowed': true,
    'gatehouse.resource_type': 'document',
  });
  expect(spans[1]!.status.code).toBe(SpanStatusCode.ERROR);
  expect(spans[1]!.attributes).toMatchObject({
    'gatehouse.error_code': 'INVALID_ARGUMENT',
    'gatehouse.outcome': 'error',
  });
});

it('keeps an HTTP watch span open for as long as the watch, and ends it when the server ends the stream', async () => {
  const { exporter, tracing } = recorder();
  const { server, httpPost } = await start({ tracing });
  const res = await httpPost('/v1/watch', {}, { traceparent: TRACEPARENT, 'x-request-id': 'watch-1' });
  expect(res.status).toBe(200);
  const lines = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  await touch(server);
  const first = await lines.read();
  expect(first.value).toContain('changes');
  // One event in, the watch is still open: no span has ended, and the call is not counted yet.
  expect(exporter.getFinishedSpans()).toHaveLength(0);
  const metricsText = async (): Promise<string> => (await server.metrics.render()).body;
  expect(await metricsText()).not.toMatch(/transport="http",method="Watch"/);

  server.service.beginShutdown();
  let rest = '';
  for (let r = await lines.read(); r.done !== true; r = await lines.read()) rest += r.value;
  expect(rest).toContain('"UNAVAILABLE"');
  await vi.waitFor(() => expect(exporter.getFinishedSpans()).toHaveLength(1), SETTLED);
  const [span] = exporter.getFinishedSpans();
  expect(span!.name).toBe('gatehouse/Watch');
  expect(span!.spanContext().traceId).toBe(TRACE_ID);
  expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
  expect(span!.status.code).toBe(SpanStatusCode.ERROR);
  expect(span!.attributes).toMatchObject({
    'gatehouse.transport': 'http',
    'gatehouse.request_id': 'watch-1',
    'gatehouse.error_code': 'UNAVAILABLE',
  });
  // Counted once it ended, with how it ended.
  expect(await metricsText()).toMatch(
    /^gatehouse_request_duration_seconds_count\{transport="http",method="Watch",outcome="error"\} 1$/m,
  );
  expect(await metricsText()).toContain(
    'gatehouse_request_errors_total{transport="http",method="Watch",code="UNAVAILABLE"} 1',
  );
});

it('ends an HTTP watch span, CANCELLED, when the client leaves', async () => {
  const { exporter, tracing } = recorder();
  const { server, httpPost } = await start({ tracing });
  const res = await httpPost('/v1/watch', {}, { traceparent: TRACEPARENT });
  const lines = res.body!.getReader();
  await touch(server);
  await lines.read();
  expect(exporter.getFinishedSpans()).toHaveLength(0);
  await lines.cancel();
  await vi.waitFor(() => expect(exporter.getFinishedSpans()).toHaveLength(1), SETTLED);
  const [span] = exporter.getFinishedSpans();
  expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
  expect(span!.attributes).toMatchObject({ 'rpc.method': 'Watch', 'gatehouse.error_code': 'CANCELLED' });
});

it('makes one span for a whole gRPC LookupResources stream, ended after its last page', async () => {
  const { exporter, tracing } = recorder();
  const { grpcStream } = await start({ tracing });
  const stream = grpcStream(
    'LookupResources',
    {
      resourceObjectType: 'document',
      permission: 'view',
      subject: { object: ref('user', 'bob') },
      pageSize: 1,
    },
    { traceparent: TRACEPARENT },
  );
  const ids: string[] = [];
  let pages = 0;
  for await (const page of stream) {
    pages++;
    ids.push(...(page as Any).resourceObjectIds);
  }
  expect(ids.sort()).toEqual(['plan', 'readme']);
  expect(pages).toBeGreaterThan(1);
  await vi.waitFor(() => expect(exporter.getFinishedSpans()).toHaveLength(1), SETTLED);
  const [span] = exporter.getFinishedSpans();
  expect(span!.name).toBe('gatehouse/LookupResources');
  expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
  expect(span!.attributes).toMatchObject({
    'gatehouse.transport': 'grpc',
    'gatehouse.outcome': 'ok',
    'gatehouse.permission': 'view',
    'gatehouse.resource_type': 'document',
  });
});

it('keeps a gRPC watch span open while the watch runs, and ends it when the client cancels', async () => {
  const { exporter, tracing } = recorder();
  const { server, grpcStream } = await start({ tracing });
  const stream = grpcStream('Watch', {}, { traceparent: TRACEPARENT });
  stream.on('error', () => undefined); // the cancellation below
  const first = new Promise((resolve) => stream.once('data', resolve));
  // The watch starts from "now" once the server has it: write until an event arrives.
  const writer = setInterval(() => void touch(server), 50);
  await first;
  clearInterval(writer);
  expect(exporter.getFinishedSpans()).toHaveLength(0);
  stream.cancel();
  await vi.waitFor(() => expect(exporter.getFinishedSpans()).toHaveLength(1), SETTLED);
  const [span] = exporter.getFinishedSpans();
  expect(span!.name).toBe('gatehouse/Watch');
  expect(span!.spanContext().traceId).toBe(TRACE_ID);
  expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
  expect(span!.attributes).toMatchObject({
    'gatehouse.transport': 'grpc',
    'gatehouse.error_code': 'CANCELLED',
  });
});

it('creates no span when tracing is off, even with a tracer provider registered', async () => {
  const { exporter, provider } = recorder();
  trace.setGlobalTracerProvider(provider);
  cleanups.push(() => trace.disable());
  const { httpPost, grpcCheck } = await start({ otel: false });
  expect((await httpPost('/v1/check', check('view', 'alice'), { traceparent: TRACEPARENT })).status).toBe(
    200,
  );
  await grpcCheck(check('view', 'alice'), { traceparent: TRACEPARENT });
  expect(exporter.getFinishedSpans()).toHaveLength(0);
  // --otel on: the same provider, taken from the global registration, gets the spans.
  const on = await start({ otel: true });
  expect((await on.httpPost('/v1/check', check('view', 'alice'), {})).status).toBe(200);
  expect(exporter.getFinishedSpans()).toHaveLength(1);
});

it('ignores a malformed or invalid traceparent rather than failing the request', () => {
  for (const bad of [
    'garbage',
    `ff-${TRACE_ID}-${PARENT_ID}-01`,
    `00-${'0'.repeat(32)}-${PARENT_ID}-01`,
    `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
    `00-${TRACE_ID}-${PARENT_ID}-01-extra`,
    `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`,
  ]) {
    expect(trace.getSpanContext(parentFromTraceparent(bad))).toBeUndefined();
  }
  const ok = trace.getSpanContext(parentFromTraceparent(`00-${TRACE_ID}-${PARENT_ID}-00`, 'a=1,b=2'));
  expect(ok).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 0, isRemote: true });
  expect(ok?.traceState?.get('b')).toBe('2');
});
