// Loading a policy directory from disk: recursion, filtering, ordering and errors.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { loadPolicySet } from './compile-policy-set.js';
import { loadPolicyDirectory } from './load-directory.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-policies-'));
  await mkdir(join(root, 'team', 'nested'), { recursive: true });
  await mkdir(join(root, '..2026_01_01'), { recursive: true });
  await mkdir(join(root, 'dir.yaml'));
  await writeFile(join(root, 'team', 'schema.yaml'), 'kind: schema\ntypes:\n  user: {}\n');
  await writeFile(join(root, 'team', 'nested', 'data.yml'), 'kind: relationships\nrelationships: []\n');
  await writeFile(join(root, 'a.yaml'), 'kind: test\nname: a\n');
  await writeFile(join(root, 'README.md'), '# not a policy');
  // A ConfigMap mount shows each file twice: through a hidden timestamped directory and a link.
  await writeFile(join(root, '..2026_01_01', 'a.yaml'), 'kind: test\nname: hidden\n');
  await symlink(join(root, 'team', 'schema.yaml'), join(root, 'linked.yaml'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('loadPolicyDirectory', () => {
  it('reads every yaml file recursively, sorted, with posix paths relative to the root', async () => {
    const files = await loadPolicyDirectory(root);
    expect(files.map((f) => f.path)).toEqual([
      'a.yaml',
      'linked.yaml',
      'team/nested/data.yml',
      'team/schema.yaml',
    ]);
    expect(files[0]?.content).toBe('kind: test\nname: a\n');
    expect(files[1]?.content).toBe('kind: schema\ntypes:\n  user: {}\n');
  });

  it('rejects a missing directory with a clear InvalidArgumentError', async () => {
    const missing = join(root, 'nope');
    await expect(loadPolicyDirectory(missing)).rejects.toThrow(InvalidArgumentError);
    await expect(loadPolicyDirectory(missing)).rejects.toThrow(
      `cannot read policy directory '${missing}' (ENOENT); pass an existing, readable directory of policy YAML files`,
    );
  });

  it('rejects a file given as the directory', async () => {
    await expect(loadPolicyDirectory(join(root, 'a.yaml'))).rejects.toThrow(
      /cannot read policy directory .*\(ENOTDIR\)/,
    );
  });
});

describe('loadPolicySet', () => {
  it('loads and compiles a directory, reporting positions relative to it', async () => {
    await expect(loadPolicySet(root)).rejects.toThrow(
      "team/schema.yaml:3:3: duplicate type 'user': already defined at linked.yaml:3:3",
    );
    const set = await loadPolicySet(join(root, 'team'));
    expect(set.files).toEqual(['nested/data.yml', 'schema.yaml']);
    expect([...set.schema.types.keys()]).toEqual(['user']);
  });
});
