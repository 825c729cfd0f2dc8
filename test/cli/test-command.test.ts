// `gatehouse test`: PASS/FAIL per file, failing assertions with file:line and what differed,
// the `N passed, M failed` total, and exit codes for failures and invalid policies.
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCS_DATA, DOCS_SCHEMA, removePolicyDir, runCli, writePolicyDir } from './cli-harness.js';

const dirs: string[] = [];
async function policyDir(files: Record<string, string>): Promise<string> {
  const dir = await writePolicyDir(files);
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map(removePolicyDir));
});

const PASSING_TEST = `kind: test
name: marketing sees prospect1
namespace: docs
assertions:
  - allowed: contact:prospect1#view@user:mike
  - denied: contact:prospect1#view@user:stranger
lookups:
  - resources: contact#view@user:mike
    expect: [contact:prospect1]
`;

// Line 5 and line 8 are wrong on purpose; line 6 is right; the step on line 11 is wrong.
const FAILING_TEST = `kind: test
name: wrong expectations
namespace: docs
assertions:
  - allowed: contact:prospect1#view@user:stranger
  - allowed: contact:prospect1#view@user:olga
lookups:
  - subjects: contact:prospect1#view@user
    expect: [user:mike, user:stranger]
steps:
  - delete_object: group:marketing
  - allowed: contact:prospect1#view@user:mike
`;

describe('gatehouse test', () => {
  it('prints PASS per file and the totals, exit 0', async () => {
    const dir = await policyDir({
      'schema.yaml': DOCS_SCHEMA,
      'data.yaml': DOCS_DATA,
      'ok.test.yaml': PASSING_TEST,
    });
    const run = await runCli('test', dir);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      `PASS ${dir}/ok.test.yaml — marketing sees prospect1 (3 checks)\n3 passed, 0 failed\n`,
    );
    expect(run.code).toBe(0);
  });

  it('lists each failing assertion with file:line, expected and actual, exit 1', async () => {
    const dir = await policyDir({
      'schema.yaml': DOCS_SCHEMA,
      'data.yaml': DOCS_DATA,
      'bad.test.yaml': FAILING_TEST,
      'ok.test.yaml': PASSING_TEST,
    });
    const run = await runCli('test', dir);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      `FAIL ${dir}/bad.test.yaml — wrong expectations (4 checks)`,
      `  ${dir}/bad.test.yaml:5: allowed: contact:prospect1#view@user:stranger`,
      // A failed check says why, as `gatehouse check` does.
      '    expected allowed, got denied, because:',
      '    ✗ docs/contact:prospect1#view (permission)',
      '      ✗ any of (or)',
      '        ✗ docs/contact:prospect1#owner (relation)',
      '        ✗ docs/contact:prospect1#viewer (relation)',
      '          ✗ docs/contact:prospect1#viewer@docs/group:marketing#member',
      '            ✗ docs/group:marketing#member (relation)',
      `  ${dir}/bad.test.yaml:8: subjects: contact:prospect1#view@user`,
      // Lookup results are reported with full (namespaced) type names, as the API returns them.
      '    expected [docs/user:mike, docs/user:stranger], got [docs/user:mike, docs/user:olga]; missing [docs/user:stranger]; unexpected [docs/user:olga]',
      `  ${dir}/bad.test.yaml:12: allowed: contact:prospect1#view@user:mike`,
      '    expected allowed, got denied, because:',
      '    ✗ docs/contact:prospect1#view (permission)',
      '      ✗ any of (or)',
      '        ✗ docs/contact:prospect1#owner (relation)',
      '        ✗ docs/contact:prospect1#viewer (relation)',
      `PASS ${dir}/ok.test.yaml — marketing sees prospect1 (3 checks)`,
      '4 passed, 3 failed',
    ]);
  });

  it('runs the seed policies green', async () => {
    const run = await runCli('test', 'policies');
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    const fileLines = lines.slice(0, -1);
    // One line per test file on disk (the seeds' and the examples').
    const testFiles = readdirSync('policies', { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.test.yaml'),
    );
    expect(testFiles.length).toBeGreaterThanOrEqual(10);
    expect(fileLines).toHaveLength(testFiles.length);
    for (const line of fileLines)
      expect(line).toMatch(/^PASS policies\/[a-z_]+\/[a-z-]+\.test\.yaml — .+ \(\d+ checks\)$/);
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
    expect(run.code).toBe(0);
  });

  it('reports invalid policies with their positions instead of running tests, exit 1', async () => {
    const dir = await policyDir({
      'schema.yaml': DOCS_SCHEMA,
      'data.yaml': DOCS_DATA,
      'ok.test.yaml': PASSING_TEST.replace('user:stranger', 'usr:stranger'),
    });
    const run = await runCli('test', dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^${dir}/ok\\.test\\.yaml:6:\\d+: .*usr`));
  });

  it('fails when the directory holds no test files', async () => {
    const dir = await policyDir({ 'schema.yaml': DOCS_SCHEMA });
    const run = await runCli('test', dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`gatehouse: no test files (kind: test) under '${dir}'\n`);
  });

  it('fails on a missing directory', async () => {
    const run = await runCli('test', 'no/such/dir');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("policy directory 'no/such/dir' does not exist");
  });
});
