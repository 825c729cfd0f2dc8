// Entry point of @gatehouse/sdk/express: an Express middleware that guards a route with a permission.
import type { Request, RequestHandler, Response } from 'express';
import { type Decision, decide, type GuardOptions, refusal } from './guard.js';

export type { Checker, Decision, GuardOptions } from './guard.js';

export interface ExpressGuardOptions extends GuardOptions<Request> {
  /** Answer a refusal yourself (403 deny, 401 no subject, error) and return true; false keeps the default JSON answer. */
  readonly onRefusal?:
    | ((req: Request, res: Response, decision: Exclude<Decision, { kind: 'allow' }>) => boolean)
    | undefined;
}

/**
 * Let the request through only if the subject has the permission on the resource; deny → 403,
 * no subject → 401, a malformed resource or subject id → 400, a failed check → 503 (or
 * `errorStatus`).
 *
 * @example
 * import { requirePermission } from '@gatehouse/sdk/express';
 * app.get('/contacts/:id', requirePermission({
 *   client,
 *   permission: 'view',
 *   resource: (req) => `contact:${req.params.id}`,
 *   subject: (req) => (req.user ? `user:${req.user.id}` : undefined),
 * }), (req, res) => res.json(load(req.params.id)));
 */
export function requirePermission(options: ExpressGuardOptions): RequestHandler {
  return (req, res, next) => {
    decide(options, req)
      .then((decision) => {
        if (decision.kind === 'allow') {
          next();
          return;
        }
        if (options.onRefusal?.(req, res, decision) === true) return;
        const { status, body } = refusal(decision, options.errorStatus);
        res.status(status).json(body);
      })
      // Only a throwing onRefusal or a broken response gets here: Express's error handler takes it.
      .catch(next);
  };
}
