// The program entry: running main.ts as a process (not importing it, as the other CLI tests
// do) runs main() and exits with the code it returns.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function gatehouse(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'server/src/cli/main.ts', ...args]);
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
}

describe('gatehouse as a process', () => {
  it('exits 2 with the verdict on stdout for a denied check', async () => {
    const result = await gatehouse('check', 'policies', 'team_crm/contact:prospect2#view@team_crm/user:sue');
    expect(result.code).toBe(2);
    expect(result.stdout.split('\n')[0]).toBe('denied');
  });

  it('exits 64 for an unknown command', async () => {
    expect((await gatehouse('frobnicate')).code).toBe(64);
  });
});
