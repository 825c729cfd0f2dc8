// Top-level dispatch: help, version, and exit 64 with a usage text for bad command lines.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './cli-harness.js';

const version = (JSON.parse(readFileSync('server/package.json', 'utf8')) as { version: string }).version;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('gatehouse usage', () => {
  it('prints the command list for --help and -h, exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const run = await runCli(flag);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: gatehouse <command> [options]');
      for (const command of ['serve', 'validate', 'test', 'check'])
        expect(run.stdout).toContain(`  ${command} `);
    }
  });

  it('prints each command help with its exit codes', async () => {
    const validate = await runCli('validate', '--help');
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('Usage: gatehouse validate DIR');
    const check = await runCli('check', '-h');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('0 allowed, 2 denied');
    const test = await runCli('test', '--help');
    expect(test.stdout).toContain('Usage: gatehouse test DIR');
  });

  it('prints the package version', async () => {
    const run = await runCli('--version');
    expect(run).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('rejects a missing command with the usage, exit 64', async () => {
    const run = await runCli();
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('gatehouse: missing command');
    expect(run.stderr).toContain('Usage: gatehouse <command>');
  });

  it('rejects an unknown command, naming the known ones', async () => {
    const run = await runCli('vaildate', 'policies');
    expect(run.code).toBe(64);
    expect(run.stderr).toContain("unknown command 'vaildate'; commands are serve, validate, test, check");
    expect(run.stdout).toBe('');
  });

  it('rejects unknown flags at the top level and on commands', async () => {
    const top = await runCli('--verbose');
    expect(top.code).toBe(64);
    expect(top.stderr).toContain("unknown option '--verbose'");
    const sub = await runCli('test', 'policies', '--fast');
    expect(sub.code).toBe(64);
    expect(sub.stderr).toContain("'--fast'");
    expect(sub.stderr).toContain('Usage: gatehouse test DIR');
  });

  it('hands serve and its arguments to runServe', async () => {
    // runServe writes to the process streams itself (it runs for the life of the process).
    let printed = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed += String(chunk);
      return true;
    });
    const run = await runCli('serve', '--help');
    expect(run.code).toBe(0);
    expect(printed).toContain('Usage: gatehouse serve');
    expect(printed).toContain('--policies');
  });
});
