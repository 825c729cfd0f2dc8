// Loads a policy directory for a command, reporting a missing directory or every policy
// problem (as file:line:column: message) on stderr instead of throwing.
import { stat } from 'node:fs/promises';
import { formatPolicyProblem, GatehouseError, PolicyError } from '../errors.js';
import { loadPolicySet, withRelationshipFiles } from '../policy/index.js';
import type { PolicySet } from '../policy/policy-set.js';
import { displayPath } from './display-path.js';
import type { CliIo } from './io.js';
import { writeLine } from './io.js';

/** The loaded set, or undefined after the problems were written to `io.stderr`. */
export async function loadPoliciesForCommand(dir: string, io: CliIo): Promise<PolicySet | undefined> {
  const problem = await directoryProblem(dir);
  if (problem !== undefined) {
    writeLine(io.stderr, `gatehouse: ${problem}`);
    return undefined;
  }
  try {
    return await withRelationshipFiles(await loadPolicySet(dir));
  } catch (error) {
    if (error instanceof PolicyError) {
      for (const p of error.problems) {
        writeLine(
          io.stderr,
          formatPolicyProblem({ ...p, position: { ...p.position, file: displayPath(dir, p.position.file) } }),
        );
      }
      const n = error.problems.length;
      writeLine(io.stderr, `${n} problem${n === 1 ? '' : 's'} in ${dir}`);
      return undefined;
    }
    if (error instanceof GatehouseError) {
      writeLine(io.stderr, `gatehouse: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}

async function directoryProblem(dir: string): Promise<string | undefined> {
  try {
    const info = await stat(dir);
    return info.isDirectory()
      ? undefined
      : `'${dir}' is not a directory; pass the policy directory (e.g. ./policies)`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `policy directory '${dir}' does not exist`;
    return `cannot read policy directory '${dir}': ${(error as Error).message}`;
  }
}
