// The AuthZEN search endpoints: subject, resource and action search on the service's lookups and
// explain, with the spec's pagination (opaque next_token bound to its query; `total` where known).
// Results the answer cannot decide without more context are listed apart, never as results.
import { InvalidArgumentError } from '../../errors.js';
import type { Outcome } from '../../observability/metrics.js';
import type { RequestSpan } from '../../observability/tracing.js';
import type { GatehouseService } from '../../service/gatehouse-service.js';
import type { CallContext } from '../../service/requests.js';
import { decodePageToken, encodePageToken, type PagePosition, queryDigest } from './authzen-page-token.js';
import {
  type AuthzenSearch,
  conditionContext,
  fromObjectId,
  type JsonObject,
  parseActionSearch,
  parseResourceSearch,
  parseSubjectSearch,
  subjectRef,
  subjectRelation,
  toObjectId,
} from './authzen-request.js';

/** What the searches ask of the service: lookups, explain, the schema (for action names) and limits. */
export type SearchService = Pick<
  GatehouseService,
  'lookupResources' | 'lookupSubjects' | 'explain' | 'readSchema' | 'schema' | 'generation' | 'limits'
>;

/** A route's answer: the outcome for metrics and spans, and the JSON body. */
export interface AuthzenAnswer {
  readonly outcome: Outcome;
  readonly body: string;
}

/** Resource search: one page of the LookupResources answer; its cursor travels inside next_token. */
export async function searchResource(
  service: SearchService,
  body: JsonObject,
  ctx: CallContext,
  span: RequestSpan | undefined,
): Promise<AuthzenAnswer> {
  const s = parseResourceSearch(body);
  const action = s.action;
  span?.request({ permission: action.name, resource: { objectType: s.resource.type } });
  const digest = queryDigest('resource', searchQuery(s));
  const position = s.page.token === undefined ? undefined : decodePageToken(s.page.token, digest);
  if (position !== undefined && !('cursor' in position)) throw wrongEndpointToken();
  const r = await service.lookupResources(
    {
      resourceType: s.resource.type,
      permission: action.name,
      subject: subjectRef(s.subject),
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
}

/** Subject search: the LookupSubjects answer, sorted, paged by offset. */
export async function searchSubject(
  service: SearchService,
  body: JsonObject,
  ctx: CallContext,
  span: RequestSpan | undefined,
): Promise<AuthzenAnswer> {
  const s = parseSubjectSearch(body);
  const action = s.action;
  const resource = s.resource;
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
  return pageOf(service, entities, offset, s, digest, context);
}

/** Action search: the permissions of the resource's type the subject has, in schema order. */
export async function searchAction(
  service: SearchService,
  body: JsonObject,
  ctx: CallContext,
  span: RequestSpan | undefined,
): Promise<AuthzenAnswer> {
  const s = parseActionSearch(body);
  const resource = s.resource;
  span?.request({ resource: { objectType: resource.type } });
  const digest = queryDigest('action', searchQuery(s));
  const offset = offsetOf(s, digest);
  // Needs `read`, like the lookups and Explain: it discloses the type's permission names and
  // the answers to all of them. So the schema is read, and each permission explained, through
  // the service calls that require that scope (a `check` token alone cannot enumerate).
  service.readSchema(ctx);
  // One generation for the names and the answers; an unknown type fails as every request's do.
  const g = service.generation;
  g.resolver.typeName(resource.type, 'resource.type');
  const type = g.schema.types.get(resource.type)!;
  const subject = subjectRef(s.subject);
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
  return pageOf(service, allowed, offset, s, digest, conditional.length === 0 ? undefined : { conditional });
}

/** A page of a result list computed whole (subjects, actions), from `offset`, at most `limit` long. */
function pageOf(
  service: SearchService,
  all: readonly unknown[],
  offset: number,
  s: AuthzenSearch,
  digest: string,
  context: JsonObject | undefined,
): AuthzenAnswer {
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
  return conditionContext(s);
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
