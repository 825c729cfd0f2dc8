// The OpenID AuthZEN Authorization API 1.0 on the HTTP server: Access Evaluation(s), the subject,
// resource and action searches, and the PDP metadata document. Routes only convert AuthZEN
// messages to service calls and back (docs/authzen.md has the mapping); the service validates,
// authorizes (token scopes), logs decisions and answers as for the native API.
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { asGatehouseError, CancelledError, GatehouseError } from '../../errors.js';
import type { DecisionLog } from '../../observability/decision-log.js';
import type { Logger } from '../../observability/logger.js';
import type { GatehouseMetrics, MethodMetrics } from '../../observability/metrics.js';
import type { RequestSpan, RequestTracing } from '../../observability/tracing.js';
import { parseBearer } from '../../service/bearer-auth.js';
import type { GatehouseService } from '../../service/gatehouse-service.js';
import type { CallContext, CheckResult } from '../../service/requests.js';
import {
  type AuthzenEvaluation,
  checkParams,
  type JsonObject,
  parseAuthzenBody,
  parseEvaluation,
  parseEvaluations,
} from './authzen-request.js';
import {
  type AuthzenAnswer,
  type SearchService,
  searchAction,
  searchResource,
  searchSubject,
} from './authzen-search.js';
import { httpStatus, UnsupportedMediaTypeError } from './errors.js';
import { readBodyText } from './read-body.js';
import { clientGone, headerValue, type RequestHeaders, requestHeaders } from './request-headers.js';

/** What the AuthZEN routes ask of the service: checks and the searches' calls. */
export type AuthzenService = SearchService & Pick<GatehouseService, 'checkNow' | 'generation'>;

export interface AuthzenOptions {
  readonly service: AuthzenService;
  readonly metrics: GatehouseMetrics;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly defaultDeadlineMs: number;
  readonly tracing?: RequestTracing | undefined;
  /** Where failed items of an evaluations request are logged (answers are logged by the service). */
  readonly decisionLog?: DecisionLog | undefined;
  /**
   * The PDP's base URL (`policy_decision_point`), from configuration only: the metadata document
   * is never built from the request's Host or X-Forwarded-Host (a host-header poisoning hole).
   * Undefined: the metadata endpoint answers 404 saying how to configure it.
   */
  readonly baseUrl?: string | undefined;
}

/** The default paths of the spec's HTTPS binding. */
export const AUTHZEN_PATHS = {
  evaluation: '/access/v1/evaluation',
  evaluations: '/access/v1/evaluations',
  searchSubject: '/access/v1/search/subject',
  searchResource: '/access/v1/search/resource',
  searchAction: '/access/v1/search/action',
  configuration: '/.well-known/authzen-configuration',
} as const;

const JSON_TYPE = 'application/json';
const JSON_HEADERS = { 'content-type': JSON_TYPE } as const;
const ALLOWED = '{"decision":true}';
const DENIED = '{"decision":false}';
/** Errors that concern one item of an evaluations request; any other fails the whole request. */
const ITEM_ERROR_CODES: ReadonlySet<string> = new Set([
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'FAILED_PRECONDITION',
]);

/** What an evaluation's decision object says: `{decision}` and, for a deny with something to say, `context`. */
interface Decision {
  decision: boolean;
  context?: JsonObject;
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semi = header.indexOf(';');
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase() === JSON_TYPE;
}

/** The metadata document's URL of `path` under the configured base URL (no trailing slash). */
function endpoint(baseUrl: string, path: string): string {
  return `${baseUrl}${path}`;
}

/** Mount the AuthZEN routes on the HTTP app. */
export function mountAuthzen(app: Hono, options: AuthzenOptions): void {
  const { service, metrics, logger, maxBodyBytes, defaultDeadlineMs, tracing, decisionLog } = options;

  function respond(
    status: number,
    body: string,
    requestId: string | undefined,
    extra?: Record<string, string>,
  ): Response {
    // The spec: a request that carries X-Request-ID gets the same identifier back.
    const headers =
      requestId === undefined && extra === undefined
        ? JSON_HEADERS
        : {
            'content-type': JSON_TYPE,
            ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
            ...extra,
          };
    return new Response(body, { status, headers });
  }

  /**
   * The one AuthZEN error answer: the status of the native API's mapping (400, 401, 403, 500 as the
   * spec lists, and 404/413/415/503/504 where HTTP has a more precise one), and the body the spec
   * names, "an error message string", as a JSON string. 401 says which scheme to use.
   */
  function failure(
    c: Context,
    err: unknown,
    method: string,
    requestId: string | undefined,
    m: MethodMetrics,
    start: number,
    span: RequestSpan | undefined,
  ): Response {
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
    const status = httpStatus(e);
    const extra = status === 401 ? { 'www-authenticate': 'Bearer realm="gatehouse"' } : undefined;
    return respond(status, JSON.stringify(errorMessage(e)), requestId, extra);
  }

  function callContext(headers: RequestHeaders, requestId: string | undefined): CallContext {
    return {
      deadline: Date.now() + defaultDeadlineMs,
      token: parseBearer(headerValue(headers, 'authorization')),
      requestId,
      decisionKind: 'authzen',
    };
  }

  /** One POST endpoint: JSON in (415 otherwise), `run` answers, JSON out; spans, metrics, errors alike. */
  function post(
    path: string,
    method: string,
    run: (
      body: JsonObject,
      ctx: CallContext,
      span: RequestSpan | undefined,
      start: number,
    ) => Promise<AuthzenAnswer> | AuthzenAnswer,
  ): void {
    const m = metrics.method('http', method);
    app.post(path, async (c) => {
      const start = performance.now();
      const headers = requestHeaders(c);
      const requestId = headerValue(headers, 'x-request-id');
      const span = tracing?.start(
        'http',
        method,
        headerValue(headers, 'traceparent'),
        headerValue(headers, 'tracestate'),
        requestId,
      );
      try {
        const ctx = callContext(headers, requestId);
        const contentType = headerValue(headers, 'content-type');
        if (!isJsonContentType(contentType)) {
          throw new UnsupportedMediaTypeError(
            `Content-Type '${contentType ?? '(none)'}' is not supported: AuthZEN requests are application/json`,
          );
        }
        const body = parseAuthzenBody(await readBodyText(c, headers, maxBodyBytes));
        let answer = run(body, ctx, span, start);
        if (answer instanceof Promise) answer = await answer;
        m.observe(answer.outcome, start);
        span?.end(answer.outcome);
        return respond(200, answer.body, requestId);
      } catch (err) {
        return failure(c, err, method, requestId, m, start, span);
      }
    });
  }

  /** One check through the service (which authorizes it, needs `check`, and logs it as `authzen`). */
  function decide(e: AuthzenEvaluation, ctx: CallContext): CheckResult | Promise<CheckResult> {
    return service.checkNow(checkParams(e, hasConditions()), ctx);
  }

  /** Whether the current schema declares conditions (it may change on a policy reload). */
  function hasConditions(): boolean {
    const conditions = service.schema.conditions;
    return conditions !== undefined && conditions.size > 0;
  }

  post(AUTHZEN_PATHS.evaluation, 'AuthzenEvaluation', (body, ctx, span) => {
    const e = parseEvaluation(body);
    span?.request(spanMessage(e));
    const r = decide(e, ctx);
    return r instanceof Promise ? r.then(evaluationAnswer) : evaluationAnswer(r);
  });

  post(AUTHZEN_PATHS.evaluations, 'AuthzenEvaluations', async (body, ctx, span, start) => {
    const v = parseEvaluations(body, service.limits.maxBatchSize);
    if (v.single !== undefined) {
      // No evaluations: the spec answers it as a single Access Evaluation.
      span?.request(spanMessage(v.single));
      let r = decide(v.single, ctx);
      if (r instanceof Promise) r = await r;
      return evaluationAnswer(r);
    }
    span?.request({ ...spanMessage(v.items[0]!), items: v.items });
    const decisions: Decision[] = [];
    for (let i = 0; i < v.items.length; i++) {
      const d = await evaluateItem(v.items[i]!, { ...ctx, decisionIndex: i }, i, start);
      decisions.push(d);
      if (v.semantic === 'deny_on_first_deny' && !d.decision) {
        d.context = { ...d.context, reason: 'deny_on_first_deny' };
        break;
      }
      if (v.semantic === 'permit_on_first_permit' && d.decision) break;
    }
    return { outcome: 'ok', body: JSON.stringify({ evaluations: decisions }) };
  });

  /**
   * One item of an evaluations request: its decision, or `false` with `context.error` (status and
   * message) when the item alone is at fault (unknown type or action, malformed id). Failures of
   * the whole call (token, deadline, store) fail the request.
   */
  async function evaluateItem(
    e: AuthzenEvaluation,
    ctx: CallContext,
    index: number,
    start: number,
  ): Promise<Decision> {
    try {
      let r = decide(e, ctx);
      if (r instanceof Promise) r = await r;
      return decisionOf(r);
    } catch (err) {
      if (!(err instanceof GatehouseError) || !ITEM_ERROR_CODES.has(err.code)) throw err;
      if (decisionLog?.sample(undefined)) {
        const g = service.generation;
        decisionLog.logError(
          'authzen',
          { engine: g.replica.engine, policyHash: g.schemaHash, revision: g.replica.revision },
          err,
          ctx.requestId,
          start,
          index,
        );
      }
      return { decision: false, context: { error: { status: httpStatus(err), message: err.message } } };
    }
  }

  post(AUTHZEN_PATHS.searchResource, 'AuthzenSearchResource', (body, ctx, span) =>
    searchResource(service, body, ctx, span),
  );
  post(AUTHZEN_PATHS.searchSubject, 'AuthzenSearchSubject', (body, ctx, span) =>
    searchSubject(service, body, ctx, span),
  );
  post(AUTHZEN_PATHS.searchAction, 'AuthzenSearchAction', (body, ctx, span) =>
    searchAction(service, body, ctx, span),
  );

  const configurationMetrics = metrics.method('http', 'AuthzenConfiguration');
  const baseUrl = options.baseUrl;
  const metadata =
    baseUrl === undefined
      ? undefined
      : JSON.stringify({
          policy_decision_point: baseUrl,
          access_evaluation_endpoint: endpoint(baseUrl, AUTHZEN_PATHS.evaluation),
          access_evaluations_endpoint: endpoint(baseUrl, AUTHZEN_PATHS.evaluations),
          search_subject_endpoint: endpoint(baseUrl, AUTHZEN_PATHS.searchSubject),
          search_resource_endpoint: endpoint(baseUrl, AUTHZEN_PATHS.searchResource),
          search_action_endpoint: endpoint(baseUrl, AUTHZEN_PATHS.searchAction),
        });
  // Public, like any .well-known document: no token, it names endpoints only.
  app.get(AUTHZEN_PATHS.configuration, (c) => {
    const start = performance.now();
    const requestId = c.req.header('x-request-id');
    if (metadata === undefined) {
      configurationMetrics.error('NOT_FOUND', start);
      return respond(
        404,
        JSON.stringify(
          'the AuthZEN metadata document is not configured: start the server with --authzen-base-url https://<the URL PEPs reach this server at>',
        ),
        requestId,
      );
    }
    configurationMetrics.observe('ok', start);
    return respond(200, metadata, requestId, { 'cache-control': 'public, max-age=300' });
  });
}

function evaluationAnswer(r: CheckResult): AuthzenAnswer {
  if (r.allowed) return { outcome: 'allowed', body: ALLOWED };
  if (r.permissionship !== 'conditional') return { outcome: 'denied', body: DENIED };
  return { outcome: 'conditional', body: JSON.stringify(decisionOf(r)) };
}

/**
 * The Decision of a check. AuthZEN has two answers; a conditional one (a relationship condition
 * needs context the request did not send) is a deny that says what would decide it, so the PEP
 * can retry with that context instead of reading it as a plain no.
 */
function decisionOf(r: CheckResult): Decision {
  if (r.allowed) return { decision: true };
  if (r.permissionship !== 'conditional') return { decision: false };
  return {
    decision: false,
    context: { reason: 'conditional', missing_context: [...(r.missingContext ?? [])] },
  };
}

/** What a request span records of an evaluation: the permission and the resource type. */
function spanMessage(e: AuthzenEvaluation): JsonObject {
  return { permission: e.action.name, resource: { objectType: e.resource.type } };
}

/** The message of an error answer: a generic one for INTERNAL (details go to the log only). */
function errorMessage(e: GatehouseError): string {
  return e.code === 'INTERNAL' ? 'internal error' : e.message;
}
