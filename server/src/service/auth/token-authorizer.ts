// Decides whether a call may run: the scope its operation needs, and the bearer token presented.
import { hash } from 'node:crypto';
import { PermissionDeniedError, UnauthenticatedError } from '../../errors.js';
import type { CallContext } from '../requests.js';
import { OPERATION_SCOPE, type Operation, SCOPES, type Scope } from './scopes.js';
import type { TokenGrant } from './token-file.js';

/** The one question the service asks before an operation runs. */
export interface Authorizer {
  /**
   * Returns when `ctx` may run `operation`. Throws UnauthenticatedError without a token or with
   * one this server does not know, PermissionDeniedError with a token that lacks the scope.
   */
  authorize(ctx: CallContext, operation: Operation): void;
}

/** Every call allowed: no token is configured (the loopback default). */
export const OPEN_AUTHORIZER: Authorizer = { authorize: () => undefined };

type ScopeSet = ReadonlySet<Scope>;

/**
 * Tokens with scopes. Scopes listed as open need no token; every other operation needs a
 * token holding its scope. The token set can be replaced at any time (rotation).
 */
export class TokenAuthorizer implements Authorizer {
  readonly #open: Readonly<Record<Scope, boolean>>;
  // Keyed by the token's SHA-256: looking up a digest reveals nothing usable about the token
  // through timing, unlike comparing the token text itself.
  #grants: ReadonlyMap<string, ScopeSet> = new Map();

  constructor(grants: readonly TokenGrant[], openScopes: readonly Scope[] = []) {
    const open = Object.fromEntries(SCOPES.map((s) => [s, openScopes.includes(s)]));
    this.#open = open as Record<Scope, boolean>;
    this.replace(grants);
  }

  /** Swap in a new token set atomically; calls already authorized are unaffected. */
  replace(grants: readonly TokenGrant[]): void {
    const next = new Map<string, ScopeSet>();
    for (const g of grants) next.set(digest(g.token), new Set(g.scopes));
    this.#grants = next;
  }

  get tokenCount(): number {
    return this.#grants.size;
  }

  authorize(ctx: CallContext, operation: Operation): void {
    const scope = OPERATION_SCOPE[operation];
    if (this.#open[scope]) return;
    const presented = ctx.token;
    if (presented === undefined || presented === '') {
      throw new UnauthenticatedError(
        `${operation} requires a bearer token with the '${scope}' scope: send 'authorization: Bearer <token>'`,
      );
    }
    const scopes = this.#grants.get(digest(presented));
    if (scopes === undefined) {
      throw new UnauthenticatedError(`${operation}: the bearer token is not valid for this server`);
    }
    if (!scopes.has(scope)) {
      throw new PermissionDeniedError(
        `${operation} needs the '${scope}' scope, which this bearer token does not have`,
      );
    }
  }
}

function digest(token: string): string {
  return hash('sha256', token, 'base64');
}
