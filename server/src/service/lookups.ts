// The lookup use cases: LookupResources (one page, or every page streamed into a sink) and
// LookupSubjects, each resolved once and answered at one revision, logged when sampled.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ResolvedLookupResources, ResolvedLookupSubjects } from '../engine/resolve.js';
import { DeadlineExceededError } from '../errors.js';
import { reach, reached } from './consistency.js';
import { type Generation, scopeOf } from './generation.js';
import { LOOKUP_IDS_PER_TURN, type LookupPageSink, untilReady } from './lookup-page-sink.js';
import type {
  CallContext,
  LookupResourcesParams,
  LookupResourcesResult,
  LookupSubjectsParams,
  LookupSubjectsResult,
} from './requests.js';
import type { UseCaseContext } from './use-case-context.js';
import { validateLookupResources, validateLookupSubjects } from './validate-requests.js';

export class Lookups {
  readonly #c: UseCaseContext;

  constructor(context: UseCaseContext) {
    this.#c = context;
  }

  async lookupResources(params: LookupResourcesParams, ctx: CallContext): Promise<LookupResourcesResult> {
    const c = this.#c;
    c.auth.authorize(ctx, 'LookupResources');
    const start = c.decisions === undefined ? 0 : performance.now();
    const g = c.generations.current;
    const v = validateLookupResources(g.resolver, params, c.limits.maxPageSize);
    if (!reached(g, v.consistency)) await reach(c.store, g, v.consistency, ctx.deadline);
    const page = g.replica.engine.lookupResources(v.lookup);
    if (c.decisions !== undefined)
      this.#logLookup('lookupResources', g, v.lookup, page.resourceIds.length, ctx, start);
    const result = {
      resourceIds: page.resourceIds,
      nextCursor: page.nextCursor,
      token: c.tokens.of(g),
    };
    return page.conditional === undefined ? result : { ...result, conditional: page.conditional };
  }

  /** See GatehouseService.streamLookupResources. */
  async streamLookupResources(
    params: LookupResourcesParams,
    ctx: CallContext,
    sink: LookupPageSink,
  ): Promise<void> {
    const c = this.#c;
    c.auth.authorize(ctx, 'LookupResources');
    const start = c.decisions === undefined ? 0 : performance.now();
    const g = c.generations.current;
    const v = validateLookupResources(g.resolver, params, c.limits.maxPageSize);
    if (!reached(g, v.consistency)) await reach(c.store, g, v.consistency, ctx.deadline);
    if (sink.closed) return;
    const token = c.tokens.of(g);
    const pages = g.replica.engine.lookupResourcePages(v.lookup);
    let count = 0;
    let sinceTurn = 0;
    for (const page of pages) {
      if (sink.closed) return;
      count += page.resourceIds.length;
      sinceTurn += page.resourceIds.length;
      const out = { resourceIds: page.resourceIds, nextCursor: page.nextCursor, token };
      const flowing = sink.write(
        page.conditional === undefined ? out : { ...out, conditional: page.conditional },
      );
      if (page.nextCursor === undefined) break;
      if (!flowing) await untilReady(sink, ctx.deadline);
      else if (sinceTurn >= LOOKUP_IDS_PER_TURN) await nextTurn();
      else continue;
      sinceTurn = 0;
      if (Date.now() >= ctx.deadline) {
        throw new DeadlineExceededError(
          'the deadline passed while streaming lookup pages: resume with the last nextCursor',
        );
      }
    }
    if (c.decisions !== undefined) this.#logLookup('lookupResources', g, v.lookup, count, ctx, start);
  }

  async lookupSubjects(params: LookupSubjectsParams, ctx: CallContext): Promise<LookupSubjectsResult> {
    const c = this.#c;
    c.auth.authorize(ctx, 'LookupSubjects');
    const start = c.decisions === undefined ? 0 : performance.now();
    const g = c.generations.current;
    const v = validateLookupSubjects(g.resolver, params);
    if (!reached(g, v.consistency)) await reach(c.store, g, v.consistency, ctx.deadline);
    const r = g.replica.engine.lookupSubjects(v.lookup);
    if (c.decisions !== undefined)
      this.#logLookup('lookupSubjects', g, v.lookup, r.subjectIds.length, ctx, start);
    return {
      subjectIds: r.subjectIds,
      wildcard: r.wildcard,
      excludedIds: r.excludedIds,
      ...(r.conditional === undefined ? {} : { conditional: r.conditional }),
      token: c.tokens.of(g),
    };
  }

  #logLookup(
    kind: 'lookupResources' | 'lookupSubjects',
    g: Generation,
    v: ResolvedLookupResources | ResolvedLookupSubjects,
    results: number,
    ctx: CallContext,
    start: number,
  ): void {
    const log = this.#c.decisions;
    if (log === undefined || !log.sample(true)) return;
    let subject: string;
    let resource: string;
    if ('resourceType' in v) {
      const s = v.subject;
      subject = s.relation === undefined ? `${s.type}:${s.id}` : `${s.type}:${s.id}#${s.relation}`;
      resource = `${v.resourceType}:*`;
    } else {
      subject = `${v.subjectType}:*`;
      resource = `${v.resource.type}:${v.resource.id}`;
    }
    log.logLookup(
      kind,
      scopeOf(g),
      { subject, resource, permission: v.permission },
      results,
      ctx.requestId,
      start,
    );
  }
}
