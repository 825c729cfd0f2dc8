// The HTTP/JSON adapter as a hono app: every GatehouseService operation under /v1, plus
// /healthz, /readyz, /metrics (unless a health listener serves them) and /openapi.json. Routes only convert, call the service, convert back.
import { randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import type protobuf from 'protobufjs';
import { asGatehouseError, CancelledError, GatehouseError, InvalidArgumentError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { GatehouseMetrics, MethodMetrics, Outcome } from '../../observability/metrics.js';
import type { RequestSpan, RequestTracing } from '../../observability/tracing.js';
import { parseBearer } from '../../service/bearer-auth.js';
import type { GatehouseService } from '../../service/gatehouse-service.js';
import type { CallContext, CheckBatchResult, CheckResult } from '../../service/requests.js';
import { gatehouseProto, SERVICE_NAME } from '../grpc/proto.js';
import * as decode from '../wire/decode.js';
import * as encode from '../wire/encode.js';
import { JSON_STYLE as S } from '../wire/encode.js';
import { lookupResourcesJson } from '../wire/lookup-page-cache.js';
import { type AuthzenOptions, mountAuthzen } from './authzen.js';
import { createCheckBatchBodies, createCheckBodies } from './check-body.js';
import { errorBody, httpStatus, UnsupportedMediaTypeError } from './errors.js';
import { rejectUnknownFields } from './known-fields.js';
import { openApiDocument } from './openapi.js';
import { mountProbes } from './probes.js';
import { readBodyText } from './read-body.js';
import { clientGone, headerValue, type RequestHeaders, requestHeaders } from './request-headers.js';
import { watchStream } from './watch-stream.js';

export interface HttpAppOptions {
  readonly service: GatehouseService;
  readonly metrics: GatehouseMetrics;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly defaultDeadlineMs: number;
  /** Serve /healthz, /readyz and /metrics here (default true; false when --health serves them). */
  readonly probes?: boolean | undefined;
  /** Request spans (OpenTelemetry); undefined: tracing off, no span and no header read. */
  readonly tracing?: RequestTracing | undefined;
  /** The AuthZEN routes (docs/authzen.md): the decision log for failed items and the PDP base URL. */
  readonly authzen?: Pick<AuthzenOptions, 'decisionLog' | 'baseUrl'> | undefined;
}

type Wire = Record<string, unknown>;

const JSON_TYPE = 'application/json';
const JSON_HEADERS = { 'content-type': JSON_TYPE } as const;
const TIMEOUT_MS = /^\d{1,9}$/;
const decided = (r: Wire): Outcome =>
  r.permissionship === S.hasPermission
    ? 'allowed'
    : r.permissionship === S.conditionalPermission
      ? 'conditional'
      : 'denied';
const checkOutcome = (r: CheckResult): Outcome =>
  r.allowed ? 'allowed' : r.permissionship === 'conditional' ? 'conditional' : 'denied';
const ok = (_response: unknown): Outcome => 'ok';
const toJson = (response: unknown): string => JSON.stringify(response);

/** The request message of RPC `method`: the HTTP body has its proto3 JSON form. */
function requestTypeOf(method: string): protobuf.Type {
  const type = gatehouseProto().lookupService(SERVICE_NAME).methods[method]?.resolvedRequestType;
  if (type == null) throw new Error(`the proto has no RPC '${method}' for the HTTP route`);
  return type;
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semi = header.indexOf(';');
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase() === JSON_TYPE;
}

function requireJsonContentType(headers: RequestHeaders): void {
  const contentType = headerValue(headers, 'content-type');
  if (!isJsonContentType(contentType)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type '${contentType ?? '(none)'}' is not supported: send the body as application/json`,
    );
  }
}

/** The request message from the body text: INVALID_ARGUMENT unless it is a JSON object. */
function parseMessage(text: string): Wire {
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError('the request body must be a JSON object (the request message)');
  }
  return body as Wire;
}

/** Build the app. Test it with `app.request()`; serve it with HttpServer. */
export function createHttpApp(options: HttpAppOptions): Hono {
  const { service, metrics, logger, maxBodyBytes, defaultDeadlineMs, tracing } = options;
  const app = new Hono();

  function context(headers: RequestHeaders, requestId: string | undefined): CallContext {
    const now = Date.now();
    const timeout = headerValue(headers, 'gatehouse-timeout-ms');
    let deadline = now + defaultDeadlineMs;
    if (timeout !== undefined) {
      if (!TIMEOUT_MS.test(timeout) || Number(timeout) === 0) {
        throw new InvalidArgumentError(
          `Gatehouse-Timeout-Ms '${timeout}' must be a positive whole number of milliseconds`,
          {
            field: 'Gatehouse-Timeout-Ms',
          },
        );
      }
      deadline = now + Number(timeout);
    }
    return { deadline, token: parseBearer(headerValue(headers, 'authorization')), requestId };
  }

  /** The request's span when tracing is on, child of the caller's `traceparent`. */
  function startSpan(
    headers: RequestHeaders,
    method: string,
    requestId: string | undefined,
  ): RequestSpan | undefined {
    return tracing?.start(
      'http',
      method,
      headerValue(headers, 'traceparent'),
      headerValue(headers, 'tracestate'),
      requestId,
    );
  }

  function respond(status: number, body: string, requestId: string | undefined): Response {
    // The shared header object keeps the common case (no request id) allocation-free.
    const headers =
      requestId === undefined ? JSON_HEADERS : { 'content-type': JSON_TYPE, 'x-request-id': requestId };
    return new Response(body, { status, headers });
  }

  function failure(
    c: Context,
    err: unknown,
    method: string,
    requestId: string | undefined,
    m: MethodMetrics,
    start: number,
    span?: RequestSpan,
  ): Response {
    // A failure caused by the client leaving is CANCELLED (debug), never INTERNAL (error + alert).
    const e =
      !(err instanceof GatehouseError) && clientGone(c, err)
        ? new CancelledError('the client closed the connection before it was answered', { cause: err })
        : asGatehouseError(err);
    m.error(e.code, start);
    span?.fail(e.code, e.message);
    if (e.code === 'INTERNAL') {
      logger.error(
        { err, method, requestId: requestId ?? randomUUID(), transport: 'http' },
        'internal error',
      );
    } else {
      logger.debug({ method, requestId, code: e.code, msg: e.message, transport: 'http' }, 'request failed');
    }
    return respond(httpStatus(e), errorBody(e), requestId);
  }

  /**
   * One POST operation: `run` answers the decoded request, `render` turns its result into the
   * response text (JSON.stringify by default). One await for the body and one for the answer.
   */
  function post<R = Wire>(
    path: string,
    method: string,
    run: (body: Wire, ctx: CallContext) => Promise<R> | R,
    outcomeOf: (result: R) => Outcome = ok,
    render: (result: R) => string = toJson,
  ): void {
    const m = metrics.method('http', method);
    const requestType = requestTypeOf(method);
    app.post(path, async (c) => {
      const start = performance.now();
      const headers = requestHeaders(c);
      const requestId = headerValue(headers, 'x-request-id');
      const span = startSpan(headers, method, requestId);
      try {
        const ctx = context(headers, requestId);
        // Inline rather than an async helper: a check awaits twice (body, answer), no more.
        requireJsonContentType(headers);
        const body = parseMessage(await readBodyText(c, headers, maxBodyBytes));
        rejectUnknownFields(body, requestType);
        span?.request(body);
        const result = await run(body, ctx);
        const outcome = outcomeOf(result);
        m.observe(outcome, start);
        span?.end(outcome);
        return respond(200, render(result), requestId);
      } catch (err) {
        return failure(c, err, method, requestId, m, start, span);
      }
    });
  }

  const countedBatch = (result: CheckBatchResult): CheckBatchResult => {
    metrics.batchItems(result.results);
    return result;
  };
  post(
    '/v1/check',
    'Check',
    (b, ctx) => service.checkNow(decode.decodeCheck(b, S.wellKnown), ctx),
    checkOutcome,
    createCheckBodies(),
  );
  post(
    '/v1/check/batch',
    'CheckBatch',
    (b, ctx) => {
      const result = service.checkBatchNow(decode.decodeCheckBatch(b, S.wellKnown), ctx);
      return result instanceof Promise ? result.then(countedBatch) : countedBatch(result);
    },
    ok,
    createCheckBatchBodies(),
  );
  post(
    '/v1/lookup/resources',
    'LookupResources',
    (b, ctx) => service.lookupResources(decode.decodeLookupResources(b, S.wellKnown), ctx),
    ok,
    lookupResourcesJson,
  );
  post('/v1/lookup/subjects', 'LookupSubjects', async (b, ctx) =>
    encode.encodeLookupSubjects(
      await service.lookupSubjects(decode.decodeLookupSubjects(b, S.wellKnown), ctx),
    ),
  );
  post(
    '/v1/explain',
    'Explain',
    async (b, ctx) => encode.encodeExplain(await service.explain(decode.decodeCheck(b, S.wellKnown), ctx), S),
    decided,
  );
  post('/v1/relationships/write', 'WriteRelationships', async (b, ctx) =>
    encode.encodeWrite(await service.writeRelationships(decode.decodeWrite(b, S.wellKnown), ctx)),
  );
  post('/v1/relationships/delete', 'DeleteRelationships', async (b, ctx) =>
    encode.encodeDeleteRelationships(
      await service.deleteRelationships(decode.decodeDeleteRelationships(b), ctx),
      S,
    ),
  );
  post('/v1/objects/delete', 'DeleteObject', async (b, ctx) =>
    encode.encodeDeleteObject(await service.deleteObject(decode.decodeDeleteObject(b), ctx), S),
  );
  post('/v1/relationships/read', 'ReadRelationships', async (b, ctx) =>
    encode.encodeRead(await service.readRelationships(decode.decodeRead(b), ctx), S),
  );
  post('/v1/policies/validate', 'ValidatePolicies', async (b, ctx) =>
    encode.encodeValidatePolicies(await service.validatePolicies(decode.decodeValidatePolicies(b), ctx)),
  );

  const schemaMetrics = metrics.method('http', 'ReadSchema');
  app.get('/v1/schema', (c) => {
    const start = performance.now();
    const headers = requestHeaders(c);
    const requestId = headerValue(headers, 'x-request-id');
    const span = startSpan(headers, 'ReadSchema', requestId);
    try {
      const res = JSON.stringify(encode.encodeSchema(service.readSchema(context(headers, requestId))));
      schemaMetrics.observe('ok', start);
      span?.end('ok');
      return respond(200, res, requestId);
    } catch (err) {
      return failure(c, err, 'ReadSchema', requestId, schemaMetrics, start, span);
    }
  });

  // Admin: reload the policies now. No body; the bearer token like every admin call.
  const reloadMetrics = metrics.method('http', 'ReloadPolicies');
  app.post('/v1/admin/reload', async (c) => {
    const start = performance.now();
    const headers = requestHeaders(c);
    const requestId = headerValue(headers, 'x-request-id');
    const span = startSpan(headers, 'ReloadPolicies', requestId);
    try {
      const outcome = await service.reloadPolicies(context(headers, requestId));
      reloadMetrics.observe('ok', start);
      span?.end('ok');
      return respond(200, JSON.stringify(outcome), requestId);
    } catch (err) {
      return failure(c, err, 'ReloadPolicies', requestId, reloadMetrics, start, span);
    }
  });

  const watchMetrics = metrics.method('http', 'Watch');
  const watchRequest = requestTypeOf('Watch');
  app.post('/v1/watch', async (c) => {
    const start = performance.now();
    const headers = requestHeaders(c);
    const requestId = headerValue(headers, 'x-request-id');
    // Open as long as the watch: ended by the body when the feed ends, fails or the reader leaves.
    const span = startSpan(headers, 'Watch', requestId);
    try {
      const ctx = context(headers, requestId);
      requireJsonContentType(headers);
      const body = parseMessage(await readBodyText(c, headers, maxBodyBytes));
      rejectUnknownFields(body, watchRequest);
      const feed = await service.watch(decode.decodeWatch(body), ctx);
      const responseHeaders: Record<string, string> = {
        'content-type': 'application/x-ndjson',
        'cache-control': 'no-store',
      };
      if (requestId !== undefined) responseHeaders['x-request-id'] = requestId;
      // Counted when the stream ends, as over gRPC: its duration is the watch's, its outcome how
      // it ended (UNAVAILABLE at shutdown, CANCELLED when the reader left).
      const stream = watchStream(feed, logger, (error) => {
        if (error === undefined) {
          watchMetrics.observe('ok', start);
          span?.end('ok');
        } else {
          watchMetrics.error(error.code, start);
          span?.fail(error.code, error.message);
        }
      });
      return new Response(stream, { status: 200, headers: responseHeaders });
    } catch (err) {
      return failure(c, err, 'Watch', requestId, watchMetrics, start, span);
    }
  });

  mountAuthzen(app, {
    service,
    metrics,
    logger,
    maxBodyBytes,
    defaultDeadlineMs,
    tracing,
    ...options.authzen,
  });
  if (options.probes !== false) mountProbes(app, { service, metrics });
  const openapi = JSON.stringify(openApiDocument());
  app.get('/openapi.json', () => new Response(openapi, { headers: JSON_HEADERS }));

  app.notFound((c) => {
    const e = new GatehouseError(
      'NOT_FOUND',
      `no route ${c.req.method} ${c.req.path}: see /openapi.json (operations are POST /v1/...)`,
    );
    return respond(404, errorBody(e), c.req.header('x-request-id'));
  });
  app.onError((err, c) => {
    logger.error({ err, path: c.req.path, transport: 'http' }, 'unhandled error');
    return respond(500, errorBody(asGatehouseError(new Error('unhandled'))), c.req.header('x-request-id'));
  });
  return app;
}
