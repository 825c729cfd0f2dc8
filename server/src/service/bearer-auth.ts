// Bearer-token check for writes and admin calls, in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from '../errors.js';

/** Guards writes/admin calls; with no configured token every call is allowed (loopback default). */
export class BearerAuth {
  readonly #digest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.#digest = token === undefined ? undefined : digest(token);
  }

  get enabled(): boolean {
    return this.#digest !== undefined;
  }

  /** Throws UnauthenticatedError unless `presented` is the configured token. */
  require(presented: string | undefined, operation: string): void {
    if (this.#digest === undefined) return;
    if (presented === undefined || presented === '') {
      throw new UnauthenticatedError(
        `${operation} requires a bearer token: send 'authorization: Bearer <token>'`,
      );
    }
    // Comparing fixed-length digests keeps the comparison time independent of the token's length.
    if (!timingSafeEqual(digest(presented), this.#digest)) {
      throw new UnauthenticatedError(`${operation}: the bearer token is not valid for this server`);
    }
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The token from an `authorization` header value (`Bearer <token>`, scheme case-insensitive). */
export function parseBearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return match === null ? '' : match[1];
}
