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
  // Tokens already verified, by their text: a check then costs one Map lookup instead of a
  // SHA-256 (microseconds per call). Only valid tokens enter it, so a hit says nothing the answer
  // does not; V8's per-process hash seed keeps a guess from probing its buckets. Bounded and
  // emptied when the token set changes.
  #verified = new Map<string, ScopeSet>();

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
    this.#verified = new Map();
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
    let scopes = this.#verified.get(presented);
    if (scopes === undefined) {
      scopes = this.#grants.get(digest(presented));
      if (scopes === undefined) {
        throw new UnauthenticatedError(`${operation}: the bearer token is not valid for this server`);
      }
      if (this.#verified.size >= MAX_VERIFIED) this.#verified.clear();
      this.#verified.set(presented, scopes);
    }
    if (!scopes.has(scope)) {
      throw new PermissionDeniedError(
        `${operation} needs the '${scope}' scope, which this bearer token does not have`,
      );
    }
  }
}

/** Far more than the tokens one deployment configures. */
const MAX_VERIFIED = 256;

function digest(token: string): string {
  return hash('sha256', token, 'base64');
}
