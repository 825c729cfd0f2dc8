// Entry point of @gatehouse/sdk/hono: a Hono middleware that guards a route with a permission.
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Decision, decide, type GuardOptions, refusal } from './guard.js';

export type { Checker, Decision, GuardOptions } from './guard.js';

export interface HonoGuardOptions extends GuardOptions<Context> {
  /** Answer a refusal yourself (403 deny, 401 no subject, error); return undefined for the default JSON answer. */
  readonly onRefusal?:
    | ((c: Context, decision: Exclude<Decision, { kind: 'allow' }>) => Response | undefined)
    | undefined;
}

/**
 * Let the request through only if the subject has the permission on the resource; deny → 403,
 * no subject → 401, a malformed resource or subject id → 400, a failed check → 503 (or
 * `errorStatus`).
 *
 * @example
 * import { requirePermission } from '@gatehouse/sdk/hono';
 * app.get('/contacts/:id', requirePermission({
 *   client,
 *   permission: 'view',
 *   resource: (c) => `contact:${c.req.param('id')}`,
 *   subject: (c) => c.get('userId') && `user:${c.get('userId')}`,
 * }), (c) => c.json(load(c.req.param('id'))));
 */
export function requirePermission(options: HonoGuardOptions): MiddlewareHandler {
  return async (c, next) => {
    const decision = await decide(options, c);
    if (decision.kind === 'allow') {
      await next();
      return;
    }
    const custom = options.onRefusal?.(c, decision);
    if (custom !== undefined) return custom;
    const { status, body } = refusal(decision, options.errorStatus);
    return c.json(body, status as ContentfulStatusCode);
  };
}
