// --authzen-base-url: the AuthZEN PDP identifier comes from configuration, checked at start-up.
import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../../server/src/config/load-config.js';

function build(argv: string[], env: Record<string, string> = {}) {
  return buildConfig({
    argv,
    env,
    readTextFile: () => {
      throw new Error('no files');
    },
  });
}

function problemsOf(argv: string[]): readonly string[] {
  try {
    build(argv);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('authzenBaseUrl', () => {
  it('is unset by default, and read from the flag or the environment without a trailing slash', () => {
    expect(build([]).authzenBaseUrl).toBeUndefined();
    expect(build(['--authzen-base-url', 'https://pdp.example.com/']).authzenBaseUrl).toBe(
      'https://pdp.example.com',
    );
    expect(build([], { GATEHOUSE_AUTHZEN_BASE_URL: 'https://pdp.example.com/tenant1' }).authzenBaseUrl).toBe(
      'https://pdp.example.com/tenant1',
    );
  });

  it('refuses what is not an absolute http(s) URL without query or fragment', () => {
    expect(problemsOf(['--authzen-base-url', 'pdp.example.com'])).toEqual([
      expect.stringContaining('absolute URL'),
    ]);
    expect(problemsOf(['--authzen-base-url', 'ftp://pdp.example.com'])).toEqual([
      expect.stringContaining('https'),
    ]);
    expect(problemsOf(['--authzen-base-url', 'https://pdp.example.com/?t=1'])).toEqual([
      expect.stringContaining('no query or fragment'),
    ]);
  });
});
