// Revision tokens (ZedToken.token): opaque to clients, validated strictly on the way in.
// The form `GH1.<base36 revision>.<check>` is versioned and checksummed so a typo or a token
// from another system fails with INVALID_ARGUMENT instead of silently naming some revision.
import { InvalidArgumentError } from '../errors.js';
import type { Revision } from '../store/store.js';

const PREFIX = 'GH1.';
const MAX_TOKEN_LENGTH = 64;

/** FNV-1a over the revision text, 4 base36 chars: catches typos, not forgery (tokens grant nothing). */
function checksum(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) % 36 ** 4).toString(36).padStart(4, '0');
}

/** The token naming `revision`. */
export function encodeRevisionToken(revision: Revision): string {
  const body = revision.toString(36);
  return `${PREFIX}${body}.${checksum(body)}`;
}

/** The revision a token names. Throws InvalidArgumentError (quoting the token) if it is not one of ours. */
export function decodeRevisionToken(token: string, field: string): Revision {
  const shown = token.length > MAX_TOKEN_LENGTH ? `${token.slice(0, MAX_TOKEN_LENGTH)}...` : token;
  const bad = (): never => {
    throw new InvalidArgumentError(
      `invalid revision token '${shown}': pass back a token exactly as a Gatehouse response returned it`,
      { field },
    );
  };
  if (token.length > MAX_TOKEN_LENGTH || !token.startsWith(PREFIX)) bad();
  const dot = token.indexOf('.', PREFIX.length);
  if (dot < 0) bad();
  const body = token.slice(PREFIX.length, dot);
  if (!/^[0-9a-z]{1,11}$/.test(body) || checksum(body) !== token.slice(dot + 1)) bad();
  const revision = Number.parseInt(body, 36);
  if (!Number.isSafeInteger(revision)) bad();
  return revision;
}
