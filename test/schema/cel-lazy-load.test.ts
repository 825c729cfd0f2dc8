// The CEL library (about 12 MB of RSS) is loaded only when a schema declares conditions.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function celLoadedFor(policies: string): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'test/schema/support/cel-loaded.ts', policies],
    { timeout: 120_000 },
  );
  return stdout.trim();
}

describe('loading the CEL library', () => {
  it('is skipped by the server and a policy set without conditions', async () => {
    expect(await celLoadedFor('policies/helpdesk')).toBe('cel not loaded');
  }, 150_000);

  it('happens once a schema declares a condition', async () => {
    expect(await celLoadedFor('policies/authzen_todo')).toBe('cel loaded');
  }, 150_000);
});
