// docs/conditions.md runs as written: its files form a policy directory whose tests pass, and
// every `gatehouse check` line of its sh block prints the verdict its comment states.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { removePolicyDir, runCli, writePolicyDir } from '../cli/cli-harness.js';
import { validate } from '../policy/json-schema-subset.js';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'conditions.md'), 'utf8');

/** `<!-- file: NAME -->` followed by a fenced block: the files of the example directory. */
function docFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const m of DOC.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)```/g)) files[m[1]!] = m[2]!;
  return files;
}

/** Splits a shell line into words, honouring single quotes (all the doc uses). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

let dir: string;
beforeAll(async () => {
  dir = await writePolicyDir(docFiles());
});
afterAll(() => removePolicyDir(dir));

describe('docs/conditions.md', () => {
  it('has the example files, and their policy tests pass', async () => {
    expect(Object.keys(docFiles()).sort()).toEqual([
      'conditions.test.yaml',
      'relationships.yaml',
      'schema.yaml',
    ]);
    const run = await runCli('test', dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('its files are valid against the published JSON Schema', () => {
    const path = join(import.meta.dirname, '..', '..', 'schema', 'gatehouse-policy.schema.json');
    const schema = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    for (const [name, content] of Object.entries(docFiles()))
      expect(validate(schema, parse(content)), name).toEqual([]);
  });

  const block = /```sh\n([\s\S]*?)```/.exec(DOC)![1]!;
  const lines = block.split('\n').filter((l) => l.startsWith('gatehouse check'));
  it.each(lines)('%s', async (line) => {
    const [command, comment] = line.split(/\s+# /) as [string, string];
    const argv = words(command)
      .slice(1)
      .map((w) => (w === '.' ? dir : w));
    const run = await runCli(...argv);
    expect(run.stdout.split('\n')[0]).toBe(comment.trim());
    const verdict = comment.split(' ')[0];
    expect(run.code).toBe(verdict === 'allowed' ? 0 : verdict === 'denied' ? 2 : 3);
  });
});
