// The framework-free part of the route guards: extract, check, and classify the outcome.
import type { GatehouseError } from '../errors.js';
import type { CheckResult, Consistency, ObjectInput, SubjectInput } from '../types.js';

/** The one client method a guard needs. A GatehouseClient fits; so does a test double. */
export interface Checker {
  check(
    request: { resource: ObjectInput; permission: string; subject: SubjectInput },
    options?: { consistency?: Consistency | undefined; timeoutMs?: number | undefined },
  ): Promise<CheckResult>;
}

type Maybe<T> = T | Promise<T>;

/** What a guard checks, for a framework request context `C`. */
export interface GuardOptions<C> {
  readonly client: Checker;
  /** The permission to require, or a function choosing it per request. */
  readonly permission: string | ((ctx: C) => Maybe<string>);
  /** The resource the route acts on, e.g. ``(c) => `contact:${c.req.param('id')}` ``. */
  readonly resource: (ctx: C) => Maybe<ObjectInput>;
  /** The caller; `undefined` means not signed in and answers 401. */
  readonly subject: (ctx: C) => Maybe<SubjectInput | undefined>;
  readonly consistency?: Consistency | undefined;
  /** Deadline of the check (default: the client's). */
  readonly timeoutMs?: number | undefined;
  /** Status when the check itself fails (Gatehouse down, deadline passed): default 503. A malformed id is always 400. */
  readonly errorStatus?: number | undefined;
}

export type Decision =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny' }
  | { readonly kind: 'unauthenticated' }
  | { readonly kind: 'error'; readonly error: unknown };

/** Run the check a guard stands for; never throws (failures come back as `error`). */
export async function decide<C>(options: GuardOptions<C>, ctx: C): Promise<Decision> {
  try {
    const subject = await options.subject(ctx);
    if (subject === undefined) return { kind: 'unauthenticated' };
    const permission =
      typeof options.permission === 'string' ? options.permission : await options.permission(ctx);
    const resource = await options.resource(ctx);
    const { allowed } = await options.client.check(
      { resource, permission, subject },
      { consistency: options.consistency, timeoutMs: options.timeoutMs },
    );
    return allowed ? { kind: 'allow' } : { kind: 'deny' };
  } catch (error) {
    return { kind: 'error', error };
  }
}

/** Status and JSON body (the server's error shape) for a decision that stops the request. */
export function refusal(
  decision: Exclude<Decision, { kind: 'allow' }>,
  errorStatus: number | undefined,
): { status: number; body: { error: { code: string; message: string } } } {
  switch (decision.kind) {
    case 'deny':
      return { status: 403, body: { error: { code: 'PERMISSION_DENIED', message: 'permission denied' } } };
    case 'unauthenticated':
      return {
        status: 401,
        body: { error: { code: 'UNAUTHENTICATED', message: 'sign in to access this resource' } },
      };
    case 'error': {
      // An id that is not an id (`/contacts/a%23b` → `contact:a#b`) is the request's fault, not
      // an outage: 400, naming only which part was invalid.
      const invalid = invalidPart(decision.error);
      if (invalid !== undefined) {
        return {
          status: 400,
          body: { error: { code: 'INVALID_ARGUMENT', message: `the request names an invalid ${invalid}` } },
        };
      }
      // The caller learns only that authorization could not be decided; details belong in logs.
      const code = (decision.error as Partial<GatehouseError>).code ?? 'INTERNAL';
      return {
        status: errorStatus ?? 503,
        body: { error: { code: 'UNAVAILABLE', message: `authorization could not be decided (${code})` } },
      };
    }
  }
}

/**
 * 'resource' or 'subject' when `error` says that part of the check was malformed (by the
 * SDK's parser or the server's validation); undefined for every other failure, including an
 * unknown permission, which is the route's configuration and not the request's fault.
 */
function invalidPart(error: unknown): 'resource' | 'subject' | undefined {
  const e = error as Partial<GatehouseError> | null;
  if (e?.code !== 'INVALID_ARGUMENT' || typeof e.field !== 'string') return undefined;
  const part = e.field.split(/[.[]/, 1)[0];
  return part === 'resource' || part === 'subject' ? part : undefined;
}
