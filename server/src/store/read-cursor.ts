// Opaque read cursors: the sort key of the last relationship returned, bound to the filter
// that produced it. Resuming "after this key" rather than "after N items" is what keeps
// paging correct while other writers insert and delete between pages.
import { InvalidArgumentError } from '../errors.js';
import { canonicalFilter } from './relationship-filter.js';
import type { RelationshipFilter } from './store.js';

const CURSOR_VERSION = 1;

/** 32-bit FNV-1a: enough to catch a cursor replayed with another filter, not a security measure. */
function fingerprint(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function encodeReadCursor(filter: RelationshipFilter, lastKey: string): string {
  const payload = JSON.stringify([CURSOR_VERSION, fingerprint(canonicalFilter(filter)), lastKey]);
  return Buffer.from(payload, 'utf8').toString('base64url');
}

/** Returns the sort key to resume after. Throws InvalidArgumentError for a foreign or mangled cursor. */
export function decodeReadCursor(filter: RelationshipFilter, cursor: string): string {
  const shown = cursor.length > 40 ? `${cursor.slice(0, 37)}...` : cursor;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== CURSOR_VERSION ||
    typeof parsed[1] !== 'number' ||
    typeof parsed[2] !== 'string'
  ) {
    throw new InvalidArgumentError(
      `invalid cursor '${shown}': pass back the nextCursor of a previous page unchanged, or omit it to start from the beginning`,
      { field: 'cursor' },
    );
  }
  if (parsed[1] !== fingerprint(canonicalFilter(filter))) {
    throw new InvalidArgumentError(
      `cursor '${shown}' was issued for a different filter: repeat the original filter, or omit the cursor to start over`,
      { field: 'cursor' },
    );
  }
  return parsed[2];
}
