// Runs `main()` in-process with captured output, and writes throwaway policy directories.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../server/src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

/** A fresh directory holding `files` (relative path → content); remove it with `removePolicyDir`. */
export async function writePolicyDir(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

export async function removePolicyDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A small valid namespaced policy: Mike is in marketing, which may view prospect1. */
export const DOCS_SCHEMA = `kind: schema
namespace: docs
types:
  user: {}
  group:
    relations:
      member: user
  contact:
    relations:
      owner: user
      viewer: user:* or group#member
    permissions:
      view: owner or viewer
`;

export const DOCS_DATA = `kind: relationships
namespace: docs
relationships:
  - group:marketing#member@user:mike
  - contact:prospect1#viewer@group:marketing#member
  - contact:prospect1#owner@user:olga
`;
