// The OpenID AuthZEN Authorization API 1.0 on the HTTP server: Access Evaluation(s), the subject,
// resource and action searches, and the PDP metadata document. Routes only convert AuthZEN
// messages to service calls and back (docs/authzen.md has the mapping); the service validates,
// authorizes (token scopes), logs decisions and answers as for the native API.
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { asGatehouseError, CancelledError, GatehouseError, InvalidArgumentError } from '../../errors.js';
import type { DecisionLog } from '../../observability/decision-log.js';
import type { Logger } from '../../observability/logger.js';
import type { GatehouseMetrics, MethodMetrics, Outcome } from '../../observability/metrics.js';
import type { RequestSpan, RequestTracing } from '../../observability/tracing.js';
import { parseBearer } from '../../service/bearer-auth.js';
import type { GatehouseService } from '../../service/gatehouse-service.js';
import type { CallContext, CheckResult } from '../../service/requests.js';
import { decodePageToken, encodePageToken, type PagePosition, queryDigest } from './authzen-page-token.js';
import {
  type AuthzenEvaluation,
  type AuthzenSearch,
  checkParams,
  conditionContext,
  fromObjectId,
  type JsonObject,
  parseActionSearch,
  parseAuthzenBody,
  parseEvaluation,
  parseEvaluations,
  parseResourceSearch,
  parseSubjectSearch,
  subjectRef,
  subjectRelation,
  toObjectId,
} from './authzen-request.js';
import { httpStatus, UnsupportedMediaTypeError } from './errors.js';
import { readBodyText } from './read-body.js';
import { clientGone, headerValue, type RequestHeaders, requestHeaders } from './request-headers.js';

/** What the AuthZEN routes ask of the service: checks, lookups, explain, the schema and limits. */
export type AuthzenService = Pick<
  GatehouseService,
  | 'checkNow'
  | 'lookupResources'
  | 'lookupSubjects'
  | 'explain'
  | 'readSchema'
  | 'schema'
  | 'limits'
  | 'generation'
>;

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

interface Answer {
  readonly outcome: Outcome;
  readonly body: string;
}

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
    ) => Promise<Answer> | Answer,
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

  post(AUTHZEN_PATHS.searchResource, 'AuthzenSearchResource', async (body, ctx, span) => {
    const s = parseResourceSearch(body);
    const action = s.action!;
    span?.request({ permission: action.name, resource: { objectType: s.resource.type } });
    const digest = queryDigest('resource', searchQuery(s));
    const position = s.page.token === undefined ? undefined : decodePageToken(s.page.token, digest);
    if (position !== undefined && !('cursor' in position)) throw wrongEndpointToken();
    const r = await service.lookupResources(
      {
        resourceType: s.resource.type,
        permission: action.name,
        subject: subjectRef(s.subject as { type: string; id: string; properties?: JsonObject }),
        pageSize: s.page.limit,
        cursor: position?.cursor,
        context: searchContext(s),
      },
      ctx,
    );
    const type = s.resource.type;
    const results = r.resourceIds.map((id) => ({ type, id: fromObjectId(id) }));
    const next = r.nextCursor === undefined ? '' : encodePageToken(digest, { cursor: r.nextCursor });
    const page = { next_token: next, count: results.length };
    const conditional = conditionalEntities(type, r.conditional);
    return {
      outcome: 'ok',
      body: JSON.stringify(
        conditional === undefined ? { page, results } : { page, context: { conditional }, results },
      ),
    };
  });

  post(AUTHZEN_PATHS.searchSubject, 'AuthzenSearchSubject', async (body, ctx, span) => {
    const s = parseSubjectSearch(body);
    const action = s.action!;
    const resource = s.resource as { type: string; id: string };
    span?.request({ permission: action.name, resource: { objectType: resource.type } });
    const digest = queryDigest('subject', searchQuery(s));
    const offset = offsetOf(s, digest);
    const r = await service.lookupSubjects(
      {
        resource: { type: resource.type, id: toObjectId(resource.id) },
        permission: action.name,
        subjectType: s.subject.type,
        subjectRelation: subjectRelation(s.subject.properties),
        context: searchContext(s),
      },
      ctx,
    );
    // `*` (every subject of the type) sorts first; the rest by id, so offsets are stable.
    const ids = r.subjectIds.map(fromObjectId).sort();
    if (r.wildcard) ids.unshift('*');
    const type = s.subject.type;
    const relation = subjectRelation(s.subject.properties);
    const entities = ids.map((id) =>
      relation === undefined ? { type, id } : { type, id, properties: { relation } },
    );
    const conditional = conditionalEntities(type, r.conditional);
    const context =
      r.wildcard || conditional !== undefined
        ? {
            ...(r.wildcard ? { wildcard: true, excluded_ids: r.excludedIds.map(fromObjectId).sort() } : {}),
            ...(conditional === undefined ? {} : { conditional }),
          }
        : undefined;
    return pageOf(entities, offset, s, digest, context);
  });

  post(AUTHZEN_PATHS.searchAction, 'AuthzenSearchAction', async (body, ctx, span) => {
    const s = parseActionSearch(body);
    const resource = s.resource as { type: string; id: string };
    span?.request({ resource: { objectType: resource.type } });
    const digest = queryDigest('action', searchQuery(s));
    const offset = offsetOf(s, digest);
    // Needs `read`, like the lookups and Explain: it discloses the type's permission names and
    // the answers to all of them. So the schema is read, and each permission explained, through
    // the service calls that require that scope (a `check` token alone cannot enumerate).
    service.readSchema(ctx);
    const type = service.schema.types.get(resource.type);
    if (type === undefined) {
      throw new InvalidArgumentError(`resource.type '${resource.type}' is not a type of the schema`, {
        field: 'resource.type',
      });
    }
    const subject = subjectRef(s.subject as { type: string; id: string; properties?: JsonObject });
    const target = { type: resource.type, id: toObjectId(resource.id) };
    const allowed: { name: string }[] = [];
    const conditional: { name: string; missing_context: string[] }[] = [];
    for (const permission of type.permissions.keys()) {
      const r = await service.explain(
        { resource: target, permission, subject, context: searchContext(s) },
        ctx,
      );
      if (r.allowed) allowed.push({ name: permission });
      else if (r.permissionship === 'conditional')
        conditional.push({ name: permission, missing_context: [...(r.missingContext ?? [])] });
    }
    return pageOf(allowed, offset, s, digest, conditional.length === 0 ? undefined : { conditional });
  });

  /** A page of a result list computed whole (subjects, actions), from `offset`, at most `limit` long. */
  function pageOf(
    all: readonly unknown[],
    offset: number,
    s: AuthzenSearch,
    digest: string,
    context: JsonObject | undefined,
  ): Answer {
    const limit = Math.min(s.page.limit ?? service.limits.maxPageSize, service.limits.maxPageSize);
    const results = all.slice(offset, offset + limit);
    const end = offset + results.length;
    const next = end < all.length ? encodePageToken(digest, { offset: end }) : '';
    const page = { next_token: next, count: results.length, total: all.length };
    return {
      outcome: 'ok',
      body: JSON.stringify(context === undefined ? { page, results } : { page, context, results }),
    };
  }

  function offsetOf(s: AuthzenSearch, digest: string): number {
    if (s.page.token === undefined) return 0;
    const position: PagePosition = decodePageToken(s.page.token, digest);
    if (!('offset' in position)) throw wrongEndpointToken();
    return position.offset;
  }

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

function evaluationAnswer(r: CheckResult): Answer {
  if (r.allowed) return { outcome: 'allowed', body: ALLOWED };
  if (r.permissionship !== 'conditional') return { outcome: 'denied', body: DENIED };
  return { outcome: 'denied', body: JSON.stringify(decisionOf(r)) };
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

/**
 * Results a search could not decide without more context: not in `results` (they are not
 * permitted yet), listed in the response context with what they wait for.
 */
function conditionalEntities(
  type: string,
  conditional: readonly { readonly id: string; readonly missingContext: readonly string[] }[] | undefined,
): JsonObject[] | undefined {
  if (conditional === undefined || conditional.length === 0) return undefined;
  return conditional.map((c) => ({
    type,
    id: c.id === '*' ? '*' : fromObjectId(c.id),
    missing_context: [...c.missingContext],
  }));
}

/** The condition context of a search: as for an evaluation, the searched-for entity without an id. */
function searchContext(s: AuthzenSearch): JsonObject {
  return conditionContext(s as Parameters<typeof conditionContext>[0]);
}

/** Everything a search's page token is bound to: the query without the token itself. */
function searchQuery(s: AuthzenSearch): JsonObject {
  return {
    subject: s.subject,
    action: s.action,
    resource: s.resource,
    context: s.context,
    limit: s.page.limit,
  };
}

function wrongEndpointToken(): InvalidArgumentError {
  return new InvalidArgumentError(
    'page.token belongs to a different search endpoint: start again without a token',
    {
      field: 'page.token',
    },
  );
}

/** The message of an error answer: a generic one for INTERNAL (details go to the log only). */
function errorMessage(e: GatehouseError): string {
  return e.code === 'INTERNAL' ? 'internal error' : e.message;
}
