// Opaque `next_token`s of the AuthZEN search endpoints. A token carries where the next page starts
// (an offset, or the lookup's own cursor) and a digest of the query it belongs to, so a token sent
// with a changed query is refused (the spec: "PDPs SHOULD return an error when any entity or
// parameter has been changed") instead of silently paging through another result set.
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../../errors.js';

/** Where the next page starts: an index into a computed list, or a lookup cursor. */
export type PagePosition = { readonly offset: number } | { readonly cursor: string };

interface TokenBody {
  readonly v: 1;
  /** Digest of the query (endpoint, entities, context, limit). */
  readonly q: string;
  readonly o?: number;
  readonly c?: string;
}

/** JSON with object keys sorted, so the same query sent with its members reordered digests the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The digest of a search query: everything in the request but the page token. */
export function queryDigest(endpoint: string, query: unknown): string {
  return createHash('sha256')
    .update(endpoint)
    .update('\n')
    .update(canonical(query))
    .digest('base64url')
    .slice(0, 22);
}

export function encodePageToken(digest: string, position: PagePosition): string {
  const body: TokenBody =
    'offset' in position ? { v: 1, q: digest, o: position.offset } : { v: 1, q: digest, c: position.cursor };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function refused(reason: string): InvalidArgumentError {
  return new InvalidArgumentError(`page.token ${reason}`, { field: 'page.token' });
}

/**
 * The position a token names, or a 400 when it is not one of ours or belongs to another query
 * (start over without a token, or send the query unchanged).
 */
export function decodePageToken(token: string, digest: string): PagePosition {
  let body: Partial<TokenBody>;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    body = parsed as Partial<TokenBody>;
  } catch {
    throw refused('is not a next_token this server issued: send the next_token of the previous response');
  }
  if (body.v !== 1 || typeof body.q !== 'string') {
    throw refused('is not a next_token this server issued: send the next_token of the previous response');
  }
  if (body.q !== digest) {
    throw refused(
      'belongs to a different search: keep subject, action, resource, context and page.limit as in the request that returned it, or start again without a token',
    );
  }
  if (typeof body.o === 'number' && Number.isSafeInteger(body.o) && body.o >= 0) return { offset: body.o };
  if (typeof body.c === 'string' && body.c !== '') return { cursor: body.c };
  throw refused('is not a next_token this server issued: send the next_token of the previous response');
}
