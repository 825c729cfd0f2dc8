// `gatehouse validate`: the summary line for a valid directory, every problem with its
// position for an invalid one, and clear errors for a missing directory.
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
    // Every YAML file on disk: the seeds' and the examples beside them.
    const files = readdirSync('policies', { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.yaml'),
    );
    expect(files.length).toBeGreaterThanOrEqual(20);
    expect(run.stdout).toMatch(new RegExp(`^ok: ${files.length} files, \\d+ types, \\d+ relationships\n$`));
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

  it('prints warnings without failing, and fails on them with --strict', async () => {
    const schema = DOCS_SCHEMA.replace(
      'view: owner or viewer',
      'view: owner or viewer\n      never: never and owner\n      blocked: never',
    );
    const dir = await policyDir({ 'docs/schema.yaml': schema });
    const run = await runCli('validate', dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('ok: 1 files, 3 types, 0 relationships, 2 warnings\n');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      `${dir}/docs/schema.yaml:14:7: warning: permission 'docs/contact#never' can never be true: every way to satisfy it recurses back into itself (docs/contact#never → docs/contact#never) without reaching a stored subject; add a base case such as a relation it can be granted through`,
      `${dir}/docs/schema.yaml:15:7: warning: permission 'docs/contact#blocked' can never be true: it depends only on 'docs/contact#never', which can never be true; fix that rule first`,
    ]);
    const strict = await runCli('validate', '--strict', dir);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toContain(`2 warnings in ${dir} (--strict makes warnings errors)`);
  });

  it('reports stored relationships the schema can no longer hold: file, line, relationship, why', async () => {
    const dir = await policyDir({
      'docs/schema.yaml': DOCS_SCHEMA.replace('viewer: user:* or group#member', 'viewer: group#member'),
    });
    const stored = join(dir, 'stored.txt');
    await writeFile(
      stored,
      '# exported from the server\ndocs/contact:p1#viewer@docs/user:*\n\ndocs/contact:p1#viewer@docs/group:eng#member\ndocs/contact:p1#editor@docs/user:ana\n',
    );
    const run = await runCli('validate', dir, '--relationships', stored);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      `${stored}:2: stored relationship 'docs/contact:p1#viewer@docs/user:*' cannot be held by this schema: relation 'docs/contact#viewer' does not allow the wildcard 'docs/user:*' in 'docs/contact:p1#viewer@docs/user:*'; it allows docs/group#member`,
      `${stored}:5: stored relationship 'docs/contact:p1#editor@docs/user:ana' cannot be held by this schema: type 'docs/contact' has no relation 'editor'`,
      `2 stored relationships cannot be held by the schema in ${dir}; delete them or keep the schema able to hold them`,
    ]);
    const ok = await runCli('validate', dir, '--relationships', stored.replace('stored', 'missing'));
    expect(ok.code).toBe(1);
    expect(ok.stderr).toContain('cannot read relationships file');
  });

  it('reports a broken schema file first and alone, not the unknown types that follow from it', async () => {
    const dir = await policyDir({
      'docs/schema.yaml': DOCS_SCHEMA.replace('  user: {}', '  user: {\n'),
      'docs/data.yaml': DOCS_DATA,
      'docs/a.test.yaml':
        'kind: test\nnamespace: docs\nname: t\nassertions:\n  - allowed: contact:prospect1#view@user:mike\n',
    });
    const run = await runCli('validate', dir);
    expect(run.code).toBe(1);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${dir}/docs/schema\\.yaml:\\d+:\\d+: YAML syntax error`));
    expect(lines[0]).toContain(
      '(the types this schema file declares stay unknown until it can be read, so 2 other files were not checked)',
    );
    expect(run.stderr).not.toContain('unknown type');
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
