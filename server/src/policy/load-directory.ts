// Reads a policy directory: every `*.yaml` / `*.yml` file under it, recursively, in path order.
import { readdir, readFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { PolicyFileSource } from './policy-set.js';

const POLICY_FILE = /\.ya?ml$/i;

/**
 * The policy files under `dir`, sorted by path; each `path` is relative to `dir` with `/`
 * separators (what error positions show). Hidden entries (`.git`, `..data` of a Kubernetes
 * ConfigMap mount) are skipped: ConfigMap volumes expose every file twice, once through them.
 * Throws InvalidArgumentError if `dir` or a file in it cannot be read.
 */
export async function loadPolicyDirectory(dir: string): Promise<PolicyFileSource[]> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new InvalidArgumentError(
      `cannot read policy directory '${dir}' (${reason}); pass an existing, readable directory of policy YAML files`,
      { cause: err },
    );
  }
  const paths = entries
    .filter((p) => POLICY_FILE.test(p) && !p.split(sep).some((part) => part.startsWith('.')))
    .map((p) => ({ absolute: join(dir, p), path: relative(dir, join(dir, p)).split(sep).join(posix.sep) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const files: PolicyFileSource[] = [];
  for (const p of paths) {
    let content: string;
    try {
      content = await readFile(p.absolute, 'utf8');
    } catch (err) {
      // A directory named like a policy file is not a policy file.
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') continue;
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new InvalidArgumentError(`cannot read policy file '${p.absolute}' (${reason})`, { cause: err });
    }
    files.push({ path: p.path, content });
  }
  return files;
}
