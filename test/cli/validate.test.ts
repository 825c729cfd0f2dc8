// `gatehouse validate`: the summary line for a valid directory, every problem with its
// position for an invalid one, and clear errors for a missing directory.
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

describe('gatehouse validate', () => {
  it('summarises a valid directory: files, types and relationships', async () => {
    const dir = await policyDir({ 'docs/schema.yaml': DOCS_SCHEMA, 'docs/data.yaml': DOCS_DATA });
    const run = await runCli('validate', dir);
    expect(run).toEqual({ code: 0, stdout: 'ok: 2 files, 3 types, 3 relationships\n', stderr: '' });
  });

  it('validates the seed policies', async () => {
    const run = await runCli('validate', 'policies');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok: 20 files, \d+ types, \d+ relationships\n$/);
  });

  it('reports every problem as path:line:column under the directory, and exits 1', async () => {
    const dir = await policyDir({
      'docs/schema.yaml': DOCS_SCHEMA.replace('view: owner or viewer', 'view: owner or viewr'),
      'docs/data.yaml': DOCS_DATA.replace(
        'group:marketing#member@user:mike',
        'group:marketing#membr@user:mike',
      ),
    });
    const run = await runCli('validate', dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    // Sorted by file: data.yaml before schema.yaml; the last line counts them.
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^${dir}/docs/data\\.yaml:4:\\d+: .*membr`));
    expect(lines[1]).toMatch(new RegExp(`^${dir}/docs/schema\\.yaml:13:22: .*viewr.*did you mean 'viewer'`));
    expect(lines[2]).toBe(`2 problems in ${dir}`);
  });

  it('says so when the directory does not exist', async () => {
    const run = await runCli('validate', '/nonexistent/gatehouse-policies');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("gatehouse: policy directory '/nonexistent/gatehouse-policies' does not exist\n");
  });

  it('refuses a file where a directory is expected', async () => {
    const run = await runCli('validate', 'package.json');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("'package.json' is not a directory");
  });

  it('needs exactly one directory', async () => {
    const missing = await runCli('validate');
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain('gatehouse: missing DIR');
    expect(missing.stderr).toContain('Usage: gatehouse validate DIR');
    const extra = await runCli('validate', 'a', 'b');
    expect(extra.code).toBe(64);
    expect(extra.stderr).toContain("unexpected argument 'b'");
  });
});
