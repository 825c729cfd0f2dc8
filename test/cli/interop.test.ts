// `gatehouse import` and `gatehouse export`: files written with mapping comments, what was not
// imported listed on stderr, an existing directory left untouched, exports that import back.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli-harness.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-import-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const MODEL = `model
  schema 1.1
type user
type doc
  relations
    define owner: [user]
    define viewer: [user, user with office] or owner
condition office(ip: ipaddress) {
  ip.in_cidr("10.0.0.0/8")
}
`;

describe('gatehouse import / export', () => {
  it('imports an OpenFGA model and tuples into a policy directory that validates and tests', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'model.fga'), MODEL);
    await writeFile(
      join(dir, 'tuples.yaml'),
      '- {object: "doc:1", relation: owner, user: "user:ann"}\n- {object: "doc:1", relation: viewer, user: "user:bob", condition: {name: office}}\n',
    );
    const out = join(dir, 'policies');
    const run = await runCli(
      'import',
      'openfga',
      join(dir, 'model.fga'),
      '--tuples',
      join(dir, 'tuples.yaml'),
      '--out',
      out,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`into ${out}: schema.yaml, relationships.yaml`);
    expect(run.stderr).toBe('');
    expect(await readFile(join(out, 'schema.yaml'), 'utf8')).toContain(
      '# OpenFGA: define viewer: [user, user with office] or owner',
    );
    expect(await readFile(join(out, 'relationships.yaml'), 'utf8')).toContain(
      '"doc:1#viewer_direct@user:bob[office]"',
    );
    const validate = await runCli('validate', out);
    expect(validate).toEqual({ code: 0, stdout: 'ok: 2 files, 2 types, 2 relationships\n', stderr: '' });
    const check = await runCli('check', out, 'doc:1#viewer@user:ann');
    expect(check.code).toBe(0);
    // Nothing is overwritten.
    const again = await runCli('import', 'openfga', join(dir, 'model.fga'), '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists; choose an empty --out directory');
  });

  it('imports a SpiceDB validation file with its assertions as a test file that passes', async () => {
    const dir = await tempDir();
    const file = join(dir, 'v.yaml');
    await writeFile(
      file,
      'schema: |-\n  definition user {}\n  definition doc {\n    relation viewer: user\n    permission view = viewer\n  }\nrelationships: |-\n  doc:1#viewer@user:ann\nassertions:\n  assertTrue:\n    - doc:1#view@user:ann\n  assertFalse:\n    - doc:1#view@user:bob\n',
    );
    const out = join(dir, 'p');
    expect((await runCli('import', 'spicedb', file, '--out', out)).code).toBe(0);
    const test = await runCli('test', out);
    expect(test.code).toBe(0);
    expect(test.stdout).toContain('(2 checks)\n2 passed, 0 failed');
  });

  it('exports a policy directory as OpenFGA and SpiceDB models', async () => {
    const fga = await runCli('export', 'openfga', 'policies/sales_crm');
    expect(fga.code).toBe(0);
    expect(fga.stdout).toMatch(/^model\n {2}schema 1\.1\n/);
    const zed = await runCli('export', 'spicedb', 'policies/sales_crm');
    expect(zed.code).toBe(0);
    expect(zed.stdout).toContain('definition sales_crm/');
    const bad = await runCli('export', 'cedar', 'policies/sales_crm');
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain("unknown system 'cedar'");
  });

  it('refuses to export an intersection arrow to OpenFGA, writing nothing, and exports it to SpiceDB', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'schema.yaml'),
      'kind: schema\ntypes:\n  user: {}\n  team:\n    relations:\n      member: user\n  doc:\n    relations:\n      team: team\n    permissions:\n      view: team.all(member)\n',
    );
    const fga = await runCli('export', 'openfga', dir);
    expect(fga.code).toBe(1);
    expect(fga.stdout).toBe('');
    expect(fga.stderr).toContain('OpenFGA has no intersection arrow');
    expect(fga.stderr).toContain("'doc#view = team.all(member)'");
    const zed = await runCli('export', 'spicedb', dir);
    expect(zed.code).toBe(0);
    expect(zed.stdout).toContain('permission view = team.all(member)');
  });
});
