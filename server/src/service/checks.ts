// The check use cases: Check, CheckBatch and Explain. Each resolves its request once, honours
// its consistency, asks the engine of the generation it captured, and (when sampled) logs the
// decision. Check and CheckBatch answer synchronously when no wait is needed.
import type { ResolvedCheck } from '../engine/resolve.js';
import type { BatchCheckResult } from '../engine/types.js';
import type { DecisionLog } from '../observability/decision-log.js';
import { reach, reached } from './consistency.js';
import { type Generation, scopeOf } from './generation.js';
import type {
  CallContext,
  CheckBatchParams,
  CheckBatchResult,
  CheckParams,
  CheckResult,
  ExplainResult,
  ValidatedCheckBatch,
} from './requests.js';
import type { UseCaseContext } from './use-case-context.js';
import { validateCheck, validateCheckBatch } from './validate-requests.js';

export class Checks {
  readonly #c: UseCaseContext;

  constructor(context: UseCaseContext) {
    this.#c = context;
  }

  /** See GatehouseService.checkNow. */
  checkNow(params: CheckParams, ctx: CallContext): CheckResult | Promise<CheckResult> {
    this.#c.auth.authorize(ctx, 'Check');
    if (this.#c.decisions !== undefined) return this.#checkLogged(params, ctx, this.#c.decisions);
    const g = this.#c.generations.current;
    const v = validateCheck(g.resolver, params);
    if (!reached(g, v.consistency)) {
      return reach(this.#c.store, g, v.consistency, ctx.deadline).then(() => this.#answerCheck(g, v.check));
    }
    return this.#answerCheck(g, v.check);
  }

  #answerCheck(g: Generation, check: ResolvedCheck): CheckResult {
    const d = g.replica.engine.decide(check);
    return d.permissionship === 'conditional'
      ? {
          allowed: false,
          permissionship: 'conditional',
          missingContext: d.missingContext,
          token: this.#c.tokens.of(g),
        }
      : {
          allowed: d.permissionship === 'allowed',
          permissionship: d.permissionship,
          token: this.#c.tokens.of(g),
        };
  }

  /** See GatehouseService.checkBatchNow. */
  checkBatchNow(params: CheckBatchParams, ctx: CallContext): CheckBatchResult | Promise<CheckBatchResult> {
    this.#c.auth.authorize(ctx, 'CheckBatch');
    if (this.#c.decisions !== undefined) return this.#checkBatchLogged(params, ctx, this.#c.decisions);
    const g = this.#c.generations.current;
    const v = validateCheckBatch(g.resolver, params, this.#c.limits.maxBatchSize);
    if (!reached(g, v.consistency)) {
      return reach(this.#c.store, g, v.consistency, ctx.deadline).then(() => this.#answerBatch(g, v));
    }
    return this.#answerBatch(g, v);
  }

  #answerBatch(g: Generation, v: ValidatedCheckBatch): CheckBatchResult {
    const engine = g.replica.engine;
    if (v.invalid === 0)
      return { results: engine.checkBatch(v.items as ResolvedCheck[]), token: this.#c.tokens.of(g) };
    const valid: ResolvedCheck[] = [];
    for (const item of v.items) if (!(item instanceof Error)) valid.push(item);
    const answers = valid.length === 0 ? [] : engine.checkBatch(valid);
    // Weave engine answers back between the items that failed validation, keeping request order.
    const results: BatchCheckResult[] = new Array(v.items.length);
    let next = 0;
    for (let i = 0; i < v.items.length; i++) {
      const item = v.items[i]!;
      results[i] = item instanceof Error ? { error: item } : answers[next++]!;
    }
    return { results, token: this.#c.tokens.of(g) };
  }

  async explain(params: CheckParams, ctx: CallContext): Promise<ExplainResult> {
    this.#c.auth.authorize(ctx, 'Explain');
    const g = this.#c.generations.current;
    const v = validateCheck(g.resolver, params);
    if (!reached(g, v.consistency)) await reach(this.#c.store, g, v.consistency, ctx.deadline);
    const e = g.replica.engine.explain(v.check);
    return {
      allowed: e.allowed,
      permissionship: e.permissionship,
      missingContext: e.missingContext,
      root: e.root,
      token: this.#c.tokens.of(g),
    };
  }

  /** `checkNow` with its decision logged (when sampled): the only place checks meet the decision log. */
  #checkLogged(params: CheckParams, ctx: CallContext, log: DecisionLog): CheckResult | Promise<CheckResult> {
    const start = performance.now();
    const g = this.#c.generations.current;
    const v = validateCheck(g.resolver, params);
    if (!reached(g, v.consistency)) {
      return reach(this.#c.store, g, v.consistency, ctx.deadline).then(() =>
        this.#loggedAnswer(log, g, v.check, ctx, start),
      );
    }
    return this.#loggedAnswer(log, g, v.check, ctx, start);
  }

  #loggedAnswer(
    log: DecisionLog,
    g: Generation,
    check: ResolvedCheck,
    ctx: CallContext,
    start: number,
  ): CheckResult {
    const r = this.#answerCheck(g, check);
    if (log.sample(r.allowed)) {
      const kind = ctx.decisionKind ?? 'check';
      log.logCheck(kind, scopeOf(g), check, r.allowed, ctx.requestId, start, ctx.decisionIndex);
    }
    return r;
  }

  /** `checkBatchNow` with its items logged (when sampled). */
  #checkBatchLogged(
    params: CheckBatchParams,
    ctx: CallContext,
    log: DecisionLog,
  ): CheckBatchResult | Promise<CheckBatchResult> {
    const start = performance.now();
    const g = this.#c.generations.current;
    const v = validateCheckBatch(g.resolver, params, this.#c.limits.maxBatchSize);
    const answer = (): CheckBatchResult => {
      const r = this.#answerBatch(g, v);
      log.logBatch(scopeOf(g), v.items, r.results, ctx.requestId, start);
      return r;
    };
    return reached(g, v.consistency)
      ? answer()
      : reach(this.#c.store, g, v.consistency, ctx.deadline).then(answer);
  }
}
