// The opaque LookupResources cursor: the last id returned, so the next page starts after it in
// the stable order of ids (UTF-16 code units, as Array.prototype.sort() orders strings).
// Self-contained, so any replica can continue a listing.
import { InvalidArgumentError } from '../errors.js';

const PREFIX = 'r1:';

export function encodeCursor(lastId: string): string {
  return Buffer.from(PREFIX + lastId, 'utf8').toString('base64url');
}

/** The last id of the previous page; throws InvalidArgumentError (field `cursor`) if malformed. */
export function decodeCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!text.startsWith(PREFIX) || text.length === PREFIX.length) {
    throw new InvalidArgumentError(
      `cursor '${cursor.length > 60 ? `${cursor.slice(0, 57)}...` : cursor}' is not a cursor this server issued; pass back nextCursor unchanged, or omit it to start over`,
      { field: 'cursor' },
    );
  }
  return text.slice(PREFIX.length);
}
