// The token file format: tokens with scopes, comments, every bad line reported without the token.
import { describe, expect, it } from 'vitest';
import { SCOPES } from './scopes.js';
import { parseTokenFile, TokenFileError } from './token-file.js';

function problems(text: string): readonly string[] {
  try {
    parseTokenFile('tokens', text);
  } catch (err) {
    if (err instanceof TokenFileError) return err.problems;
    throw err;
  }
  return [];
}

describe('parseTokenFile', () => {
  it('reads tokens with scopes, a bare token as every scope, and skips comments and blanks', () => {
    expect(parseTokenFile('tokens', '# app\n  aaa check,read \n\nbbb write admin\nccc\n')).toEqual([
      { token: 'aaa', scopes: ['check', 'read'] },
      { token: 'bbb', scopes: ['write', 'admin'] },
      { token: 'ccc', scopes: [...SCOPES] },
    ]);
  });

  it('reports every bad line by number, never quoting a token', () => {
    const found = problems('secret-1 check\nsecret-2 chekc\nsecret-1 read\n\u00e9t\u00e9 check\n');
    expect(found).toEqual([
      "line 2: unknown scope 'chekc' (scopes are check, read, write, admin)",
      'line 3: the same token appears on an earlier line',
      'line 4: the token must be visible ASCII characters without spaces',
    ]);
    expect(found.join(' ')).not.toContain('secret');
  });

  it('refuses a file without any token, so emptying it can never open the server', () => {
    expect(problems('')).toEqual(['no token in the file: write one `TOKEN [SCOPE...]` per line']);
    expect(problems('# only a comment\n')).toHaveLength(1);
  });
});
