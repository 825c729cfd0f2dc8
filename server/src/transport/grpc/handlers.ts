// gRPC handlers for GatehouseService: decode the message, call the service, encode the answer.
// Cross-cutting work (call context, request-id echo, metrics, error mapping) is done once here.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import {
  Metadata,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { asGatehouseError, CancelledError, GatehouseError, InvalidArgumentError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { GatehouseMetrics, MethodMetrics, Outcome } from '../../observability/metrics.js';
import type { RequestSpan, RequestTracing } from '../../observability/tracing.js';
import { parseBearer } from '../../service/bearer-auth.js';
import type { GatehouseService } from '../../service/gatehouse-service.js';
import type { LookupPageSink } from '../../service/lookup-page-sink.js';
import type { CallContext, CheckBatchResult } from '../../service/requests.js';
import * as decode from '../wire/decode.js';
import * as encode from '../wire/encode.js';
import { GRPC_STYLE as S } from '../wire/encode.js';
import { lookupResourcesProto } from '../wire/lookup-page-cache.js';
import { toServiceError } from './errors.js';
import { gatehouseProto } from './proto.js';
import { MalformedRequest } from './service-definition.js';

type Message = Record<string, unknown>;
type Call = ServerUnaryCall<Message, Message> | ServerWritableStream<Message, Message>;

/** The decoded request; INVALID_ARGUMENT for bytes the deserializer could not decode. */
function requestOf(call: Call): Message {
  const request = call.request;
  if (request instanceof MalformedRequest) {
    throw new InvalidArgumentError(`the request is not a valid ${request.typeName}: ${request.reason}`);
  }
  return request;
}

function drainOrCancel(call: ServerWritableStream<Message, Message>): Promise<unknown> {
  return Promise.race([once(call, 'drain'), once(call, 'cancelled'), once(call, 'close')]);
}

/**
 * A lookup stream's pages onto a gRPC call. `write` is false once grpc-js holds more than its
 * high-water mark unsent (HTTP/2 flow control holds it while the client is not reading).
 */
function grpcPageSink(call: ServerWritableStream<Message, Message>): LookupPageSink {
  const type = gatehouseProto().lookupType('gatehouse.v1.LookupResourcesResponse');
  return {
    // Serialized here, from the page's kept bytes when another call sent it already (the
    // service definition passes bytes through).
    write: (page) => call.write(lookupResourcesProto(type, page) as unknown as Message),
    ready: () =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          call.off('drain', done);
          call.off('cancelled', done);
          call.off('close', done);
          resolve();
        };
        call.on('drain', done);
        call.on('cancelled', done);
        call.on('close', done);
      }),
    get closed() {
      return call.cancelled || call.destroyed;
    },
  };
}

export interface GrpcHandlerDeps {
  readonly service: GatehouseService;
  readonly metrics: GatehouseMetrics;
  readonly logger: Logger;
  readonly defaultDeadlineMs: number;
  /** Request spans (OpenTelemetry); undefined: tracing off, no span and no header read. */
  readonly tracing?: RequestTracing | undefined;
}

function firstString(metadata: Metadata, key: string): string | undefined {
  const v = metadata.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

const decided = (r: Message): Outcome =>
  r.permissionship === S.hasPermission
    ? 'allowed'
    : r.permissionship === S.conditionalPermission
      ? 'conditional'
      : 'denied';
const ok = (_response: Message): Outcome => 'ok';

/** The implementation object grpc-js binds to the service definition. */
export function gatehouseHandlers(deps: GrpcHandlerDeps): UntypedServiceImplementation {
  const { service, metrics, logger, defaultDeadlineMs, tracing } = deps;

  function startSpan(call: Call, method: string, ctx: CallContext): RequestSpan | undefined {
    if (tracing === undefined) return undefined;
    const span = tracing.start(
      'grpc',
      method,
      firstString(call.metadata, 'traceparent'),
      firstString(call.metadata, 'tracestate'),
      ctx.requestId,
    );
    span.request(call.request);
    return span;
  }

  function context(call: Call): CallContext {
    const d = call.getDeadline();
    const ms = d instanceof Date ? d.getTime() : d;
    return {
      deadline: Number.isFinite(ms) ? ms : Date.now() + defaultDeadlineMs,
      token: parseBearer(firstString(call.metadata, 'authorization')),
      requestId: firstString(call.metadata, 'x-request-id'),
    };
  }

  function echoRequestId(call: Call, ctx: CallContext): void {
    if (ctx.requestId === undefined) return;
    const md = new Metadata();
    md.set('x-request-id', ctx.requestId);
    call.sendMetadata(md);
  }

  function failure(
    call: Call,
    err: unknown,
    method: string,
    ctx: CallContext,
    m: MethodMetrics,
    start: number,
    span?: RequestSpan,
  ): ReturnType<typeof toServiceError> {
    // Whatever failed once the client cancelled (or went away) is CANCELLED: its doing, not ours.
    const e =
      call.cancelled && !(err instanceof GatehouseError)
        ? new CancelledError('the client cancelled the call before it was answered', { cause: err })
        : asGatehouseError(err);
    m.error(e.code, start);
    span?.fail(e.code, e.message);
    if (e.code === 'INTERNAL') {
      logger.error(
        { err, method, requestId: ctx.requestId ?? randomUUID(), transport: 'grpc' },
        'internal error',
      );
    } else {
      logger.debug(
        { method, requestId: ctx.requestId, code: e.code, msg: e.message, transport: 'grpc' },
        'request failed',
      );
    }
    return toServiceError(e);
  }

  function unary(
    method: string,
    run: (req: Message, ctx: CallContext) => Promise<Message> | Message,
    outcomeOf: (res: Message) => Outcome = ok,
  ) {
    const m = metrics.method('grpc', method);
    return (call: ServerUnaryCall<Message, Message>, callback: sendUnaryData<Message>): void => {
      const start = performance.now();
      const ctx = context(call);
      const span = startSpan(call, method, ctx);
      echoRequestId(call, ctx);
      let pending: Promise<Message> | Message;
      try {
        pending = run(requestOf(call), ctx);
      } catch (err) {
        callback(failure(call, err, method, ctx, m, start, span));
        return;
      }
      // A check that needs no consistency wait is answered in this tick: no promise, no hop.
      if (!(pending instanceof Promise)) {
        const outcome = outcomeOf(pending);
        m.observe(outcome, start);
        span?.end(outcome);
        callback(null, pending);
        return;
      }
      // A call still waiting (for consistency, say) when its client cancels is counted then,
      // once; whatever it answers later goes nowhere.
      let settled = false;
      const onCancelled = (): void => {
        if (settled) return;
        settled = true;
        failure(call, new CancelledError(), method, ctx, m, start, span);
      };
      call.once('cancelled', onCancelled);
      pending.then(
        (res) => {
          call.off('cancelled', onCancelled);
          if (settled) return;
          settled = true;
          const outcome = outcomeOf(res);
          m.observe(outcome, start);
          span?.end(outcome);
          callback(null, res);
        },
        (err: unknown) => {
          call.off('cancelled', onCancelled);
          if (settled) return;
          settled = true;
          callback(failure(call, err, method, ctx, m, start, span));
        },
      );
    };
  }

  function stream(
    method: string,
    run: (call: ServerWritableStream<Message, Message>, ctx: CallContext) => Promise<void>,
  ) {
    const m = metrics.method('grpc', method);
    return (call: ServerWritableStream<Message, Message>): void => {
      const start = performance.now();
      const ctx = context(call);
      const span = startSpan(call, method, ctx);
      echoRequestId(call, ctx);
      let running: Promise<void>;
      try {
        requestOf(call);
        running = run(call, ctx);
      } catch (err) {
        running = Promise.reject(err);
      }
      running.then(
        () => {
          if (call.cancelled) failure(call, new CancelledError(), method, ctx, m, start, span);
          else {
            m.observe('ok', start);
            span?.end('ok');
          }
          call.end();
        },
        (err: unknown) => call.emit('error', failure(call, err, method, ctx, m, start, span)),
      );
    };
  }

  const answerBatch = (result: CheckBatchResult): Message => {
    metrics.batchItems(result.results);
    return encode.encodeCheckBatch(result, S);
  };

  return {
    Check: unary(
      'Check',
      (r, ctx) => {
        const result = service.checkNow(decode.decodeCheck(r, S.wellKnown), ctx);
        return result instanceof Promise
          ? result.then((x) => encode.encodeCheck(x, S))
          : encode.encodeCheck(result, S);
      },
      decided,
    ),
    CheckBatch: unary('CheckBatch', (r, ctx) => {
      const result = service.checkBatchNow(decode.decodeCheckBatch(r, S.wellKnown), ctx);
      return result instanceof Promise ? result.then(answerBatch) : answerBatch(result);
    }),
    LookupResources: stream('LookupResources', async (call, ctx) => {
      await service.streamLookupResources(
        decode.decodeLookupResources(call.request, S.wellKnown),
        ctx,
        grpcPageSink(call),
      );
    }),
    LookupSubjects: unary('LookupSubjects', async (r, ctx) =>
      encode.encodeLookupSubjects(
        await service.lookupSubjects(decode.decodeLookupSubjects(r, S.wellKnown), ctx),
      ),
    ),
    Explain: unary(
      'Explain',
      async (r, ctx) =>
        encode.encodeExplain(await service.explain(decode.decodeCheck(r, S.wellKnown), ctx), S),
      decided,
    ),
    WriteRelationships: unary('WriteRelationships', async (r, ctx) =>
      encode.encodeWrite(await service.writeRelationships(decode.decodeWrite(r, S.wellKnown), ctx)),
    ),
    DeleteRelationships: unary('DeleteRelationships', async (r, ctx) =>
      encode.encodeDeleteRelationships(
        await service.deleteRelationships(decode.decodeDeleteRelationships(r), ctx),
        S,
      ),
    ),
    DeleteObject: unary('DeleteObject', async (r, ctx) =>
      encode.encodeDeleteObject(await service.deleteObject(decode.decodeDeleteObject(r), ctx), S),
    ),
    ReadRelationships: unary('ReadRelationships', async (r, ctx) =>
      encode.encodeRead(await service.readRelationships(decode.decodeRead(r), ctx), S),
    ),
    Watch: stream('Watch', async (call, ctx) => {
      const feed = await service.watch(decode.decodeWatch(call.request), ctx);
      let cancelled = false;
      call.on('cancelled', () => {
        cancelled = true;
        void feed.return();
      });
      for await (const event of feed) {
        // Respect HTTP/2 flow control: a slow reader makes the feed buffer (and then end), not us.
        if (!call.write(encode.encodeWatch(event, S)) && !cancelled) await drainOrCancel(call);
      }
    }),
    ReadSchema: unary('ReadSchema', (_r, ctx) => encode.encodeSchema(service.readSchema(ctx))),
    ValidatePolicies: unary('ValidatePolicies', async (r, ctx) =>
      encode.encodeValidatePolicies(await service.validatePolicies(decode.decodeValidatePolicies(r), ctx)),
    ),
    // The request has no fields; the outcome is already the response's shape (as over HTTP).
    ReloadPolicies: unary('ReloadPolicies', async (_r, ctx) => ({ ...(await service.reloadPolicies(ctx)) })),
  };
}
