// The token file format: one `TOKEN [SCOPE...]` per line, `#` comments, blank lines ignored.
import { parseScopeList, SCOPES, type Scope } from './scopes.js';

/** One configured bearer token and what it may do. */
export interface TokenGrant {
  readonly token: string;
  readonly scopes: readonly Scope[];
}

/** The token file is unusable; `problems` names every bad line (never the token itself). */
export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
  constructor(
    readonly path: string,
    readonly problems: readonly string[],
  ) {
    super(`token file '${path}': ${problems.join('; ')}`);
  }
}

/** Visible ASCII only: a token must survive HTTP headers and gRPC metadata unchanged. */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/** A problem with a configured token, or undefined when it is usable. */
export function tokenProblem(token: string): string | undefined {
  if (token === '') return 'the token is empty (or only spaces)';
  if (!TOKEN_CHARS.test(token)) return 'the token must be visible ASCII characters without spaces';
  return undefined;
}

/**
 * Parse a token file. A line is a token followed by its scopes (comma- or space-separated); a
 * token alone has every scope. Throws TokenFileError listing every problem; a file with no
 * token is a problem, so emptying the file can never open the server.
 */
export function parseTokenFile(path: string, text: string): TokenGrant[] {
  const grants: TokenGrant[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [token, ...rest] = line.split(/\s+/) as [string, ...string[]];
    const where = `line ${i + 1}`;
    const bad = tokenProblem(token);
    if (bad !== undefined) {
      problems.push(`${where}: ${bad}`);
      return;
    }
    const scopes = rest.length === 0 ? [...SCOPES] : parseScopeList(rest.join(' '));
    if (typeof scopes === 'string') {
      problems.push(`${where}: ${scopes}`);
      return;
    }
    if (seen.has(token)) {
      problems.push(`${where}: the same token appears on an earlier line`);
      return;
    }
    seen.add(token);
    grants.push({ token, scopes });
  });
  if (problems.length === 0 && grants.length === 0) {
    problems.push('no token in the file: write one `TOKEN [SCOPE...]` per line');
  }
  if (problems.length > 0) throw new TokenFileError(path, problems);
  return grants;
}
