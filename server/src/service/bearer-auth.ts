// The bearer token of an `authorization` header or metadata value, parsed one way for every
// transport (the scopes it grants are decided in ./auth/).

/**
 * The token from an `authorization` value (`Bearer <token>`, scheme case-insensitive, spaces
 * around the token ignored); '' for a value that is not a bearer credential.
 */
export function parseBearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return match === null ? '' : match[1];
}
