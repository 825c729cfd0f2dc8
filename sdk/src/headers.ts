// Values the SDK puts in headers and metadata, checked so that both transports send them unchanged.
import { InvalidArgumentError } from './errors.js';

// Printable ASCII without surrounding spaces: what an HTTP header and gRPC metadata both carry
// unchanged (fetch trims surrounding spaces, grpc-js refuses control characters).
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
// The server reads `Bearer <token>` with the token as one run of visible characters.
const TOKEN = /^[\x21-\x7e]+$/;

/** `requestId` as given, or InvalidArgumentError when no transport could send it unchanged. */
export function checkRequestId(requestId: string | undefined): string | undefined {
  if (requestId === undefined || (requestId.length <= 256 && HEADER_VALUE.test(requestId))) return requestId;
  throw new InvalidArgumentError(
    `requestId ${JSON.stringify(requestId.slice(0, 80))} cannot be sent as a header: use 1-256 printable ASCII characters without surrounding spaces`,
    { field: 'requestId' },
  );
}

/**
 * The `authorization` value for `token`, sent exactly as given. A token with spaces, line
 * breaks or other invisible characters (a file read without trimming) is refused here, over
 * every transport alike, rather than trimmed by one transport and sent as is by another.
 */
export function authorizationHeader(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  if (TOKEN.test(token)) return `Bearer ${token}`;
  const problem =
    token.trim() === ''
      ? 'is empty or only whitespace'
      : token.trim() !== token
        ? 'has surrounding whitespace (a trailing newline from a file?): trim it'
        : 'contains characters a bearer token cannot carry (spaces, control or non-ASCII characters)';
  throw new InvalidArgumentError(`the token ${problem}; pass the token exactly as the server has it`, {
    field: 'token',
  });
}
