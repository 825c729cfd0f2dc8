// Bulk relationship files (`kind: relationships` + `file:`): each format, positions of bad lines,
// paths kept inside the policy directory, and a 200k-line file streamed by a child process whose
// heap is too small for the same data as a parsed document.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { formatPolicyProblem, PolicyError } from '../../server/src/errors.js';
import { formatRelationship } from '../../server/src/model/relationship.js';
import {
  loadPolicySet,
  policyRelationshipChunks,
  withRelationshipFiles,
} from '../../server/src/policy/index.js';
import { yaml } from './compile-helpers.js';

const run = promisify(execFile);

const SCHEMA = yaml`
  kind: schema
  types:
    user: {}
    doc:
      relations:
        viewer: user
`;

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function policyDir(files: Record<string, string>): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-relfile-'));
  await writeFile(join(dir, 'schema.yaml'), SCHEMA);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

async function loaded(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of policyRelationshipChunks(await loadPolicySet(root), 2)) {
    expect(chunk.length).toBeLessThanOrEqual(2);
    out.push(...chunk.map(formatRelationship));
  }
  return out;
}

async function problems(root: string): Promise<string[]> {
  try {
    await loaded(root);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).problems.map(formatPolicyProblem);
  }
  throw new Error('the relationships loaded without a problem');
}

describe('relationship files', () => {
  it('reads .txt, .ndjson and .csv files beside inline lists, in chunks', async () => {
    const root = await policyDir({
      'a.yaml': "kind: relationships\nrelationships: ['doc:inline#viewer@user:ana']\n",
      'b.yaml': 'kind: relationships\nfile: b.txt\n',
      'b.txt': '# comment\ndoc:t1#viewer@user:ana\n\n  doc:t2#viewer@user:bo  \r\n',
      'c.yaml': 'kind: relationships\nfile: c.ndjson\n',
      'c.ndjson': '"doc:n1#viewer@user:ana"\n\n"doc:n2#viewer@user:bo"\n',
      'd.yaml': 'kind: relationships\nfile: d.csv\n',
      'd.csv': 'relationship\ndoc:c1#viewer@user:ana\n"doc:c2#viewer@user:bo"\n',
    });
    expect(await loaded(root)).toEqual([
      'doc:inline#viewer@user:ana',
      'doc:t1#viewer@user:ana',
      'doc:t2#viewer@user:bo',
      'doc:n1#viewer@user:ana',
      'doc:n2#viewer@user:bo',
      'doc:c1#viewer@user:ana',
      'doc:c2#viewer@user:bo',
    ]);
    const set = await withRelationshipFiles(await loadPolicySet(root));
    expect(set.relationships.map((r) => `${r.position.file}:${r.position.line}`)).toContain('b.txt:4');
  });

  it('names each bad line by file:line:column, pointing inside the string', async () => {
    const root = await policyDir({
      'b.yaml': 'kind: relationships\nfile: b.txt\n',
      'b.txt': 'doc:1#viewer@user:ana\n  doc:2#editor@user:ana\nnot a relationship\n',
      'c.yaml': 'kind: relationships\nfile: c.ndjson\n',
      'c.ndjson': '"doc:1#viewer@user:ana"\n{"x": 1}\n',
    });
    const found = await problems(root);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^b\.txt:2:9: .*editor/);
    expect(found[1]).toMatch(/^b\.txt:3:1: /);
    expect(found[2]).toMatch(/^c\.ndjson:2:1: .*JSON string/);
  });

  it('refuses paths outside the policy directory, unknown formats, and missing files', async () => {
    const outside = await policyDir({ 'b.yaml': 'kind: relationships\nfile: ../etc/passwd.txt\n' });
    await expect(loadPolicySet(outside)).rejects.toThrow(/inside the policy directory/);
    await rm(outside, { recursive: true });
    const format = await policyDir({ 'b.yaml': 'kind: relationships\nfile: data.json\n' });
    await expect(loadPolicySet(format)).rejects.toThrow(/\.txt/);
    await rm(format, { recursive: true });
    const missing = await policyDir({ 'b.yaml': 'kind: relationships\nfile: gone.txt\n' });
    expect(await problems(missing)).toEqual([
      expect.stringMatching(/^b\.yaml:2:7: cannot read relationship file 'gone\.txt' \(ENOENT\)/),
    ]);
  });

  it('streams 200k relationships in a child with a 64 MB heap and reports a bad line by position', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(`doc:document-${i}#viewer@user:someone-${i % 5000}`);
    const root = await policyDir({
      'data.yaml': 'kind: relationships\nfile: data.txt\n',
      'data.txt': `${lines.join('\n')}\n`,
    });
    const child = (d: string) =>
      run(
        process.execPath,
        ['--max-old-space-size=64', '--import', 'tsx', 'test/policy/support/load-relationship-files.ts', d],
        {
          timeout: 120_000,
        },
      );
    const ok = await child(root);
    expect(ok.stdout).toBe('loaded 200000\n');
    lines[149_999] = 'doc:document-x#viewer@usr:someone';
    await writeFile(join(root, 'data.txt'), `${lines.join('\n')}\n`);
    const bad = await child(root).then(
      () => undefined,
      (err: { code: number; stdout: string }) => err,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stdout).toMatch(/^data\.txt:150000:\d+: .*usr/m);
  }, 180_000);
});
