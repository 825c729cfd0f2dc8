// Helpers for policy compiler tests: compile in-memory files and read back the problems as
// `file:line:column: message` lines.

import type { PolicyProblem } from '../../server/src/errors.js';
import { formatPolicyProblem, PolicyError } from '../../server/src/errors.js';
import { compilePolicySet } from '../../server/src/policy/compile-policy-set.js';
import type { PolicySet } from '../../server/src/policy/policy-set.js';

/** Multi-line YAML written indented inside a test: strip the common indentation and the first newline. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw
    .replace(/^\n/, '')
    .replace(/\n\s*$/, '\n')
    .split('\n');
  const indent = Math.min(
    ...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length),
  );
  return lines.map((l) => l.slice(indent)).join('\n');
}

export function compileFiles(files: Record<string, string>): PolicySet {
  return compilePolicySet(Object.entries(files).map(([path, content]) => ({ path, content })));
}

/** The problems compiling `files` reports; fails the test if compilation succeeds. */
export function problemsOf(files: Record<string, string>): PolicyProblem[] {
  try {
    compileFiles(files);
  } catch (err) {
    if (err instanceof PolicyError) return [...err.problems];
    throw err;
  }
  throw new Error('expected the policy files to be rejected, but they compiled');
}

export function problemLines(files: Record<string, string>): string[] {
  return problemsOf(files).map(formatPolicyProblem);
}
