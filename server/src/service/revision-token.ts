// Revision tokens (ZedToken.token): opaque to clients, validated strictly on the way in.
// The form `GH2.<store>.<epoch>.<base36 revision>.<check>` names the store and the epoch of its
// data, so a token is only ever compared by number with revisions of the same data; it is
// versioned and checksummed so a typo or a token from another system fails with
// INVALID_ARGUMENT instead of silently naming some revision.
import { FailedPreconditionError, InvalidArgumentError } from '../errors.js';
import type { Revision, StoreIdentity } from '../store/store.js';

const PREFIX = 'GH2.';
/** Tokens before store epochs: they name a revision of unknown data. */
const LEGACY_PREFIX = 'GH1.';
const MAX_TOKEN_LENGTH = 128;
const TOKEN_SHAPE = /^GH2\.([A-Za-z0-9_-]{1,64})\.([0-9a-z]{1,16})\.([0-9a-z]{1,11})\.([0-9a-z]{4})$/;

/** What a token names. */
export interface DecodedToken {
  readonly store: string;
  readonly epoch: string;
  readonly revision: Revision;
}

/** FNV-1a over the token body, 4 base36 chars: catches typos, not forgery (tokens grant nothing). */
function checksum(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) % 36 ** 4).toString(36).padStart(4, '0');
}

/** The token naming `revision` of the store `identity`. */
export function encodeRevisionToken(revision: Revision, identity: StoreIdentity): string {
  const body = `${identity.name}.${identity.epoch}.${revision.toString(36)}`;
  return `${PREFIX}${body}.${checksum(body)}`;
}

/** What a token names. Throws InvalidArgumentError (quoting the token) if it is not one of ours. */
export function decodeRevisionToken(token: string, field: string): DecodedToken {
  const shown = token.length > MAX_TOKEN_LENGTH ? `${token.slice(0, MAX_TOKEN_LENGTH)}...` : token;
  const bad = (): never => {
    throw new InvalidArgumentError(
      `invalid revision token '${shown}': pass back a token exactly as a Gatehouse response returned it`,
      { field },
    );
  };
  if (token.length > MAX_TOKEN_LENGTH) return bad();
  if (token.startsWith(LEGACY_PREFIX)) {
    throw new FailedPreconditionError(
      `revision token '${shown}' was issued by an older Gatehouse that did not name its store and epoch: it cannot be compared with this store's revisions; read again without it`,
      { field },
    );
  }
  const m = TOKEN_SHAPE.exec(token);
  if (m === null) return bad();
  const [, store, epoch, body, check] = m as unknown as [string, string, string, string, string];
  if (checksum(`${store}.${epoch}.${body}`) !== check) return bad();
  const revision = Number.parseInt(body, 36);
  if (!Number.isSafeInteger(revision)) return bad();
  return { store, epoch, revision };
}

/** FAILED_PRECONDITION unless the token names `identity`'s store and epoch. */
export function tokenIdentityError(token: DecodedToken, identity: StoreIdentity, field: string): Error {
  return new FailedPreconditionError(
    `revision token was issued by store '${token.store}' epoch ${token.epoch}; this is store '${identity.name}' epoch ${identity.epoch}: its revision says nothing about this data, so read again without it (or with a token this store issued)`,
    { field },
  );
}
