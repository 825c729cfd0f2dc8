import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mayAffectPolicies, watchPolicyDirectory } from './watch-policies.js';

describe('mayAffectPolicies', () => {
  it.each([
    ['policies/schema.yaml', true],
    ['policies/team/data.YML', true],
    ['policies/data.txt', true],
    ['policies/data.ndjson', true],
    ['policies/data.jsonl', true],
    ['policies/data.csv', true],
    ['policies/..data', true],
    ['policies/..2026_12_04_10_00_00.123', true],
    ['policies/team', true],
    ['policies/serve.log', false],
    ['policies/.schema.yaml.swp', false],
    ['policies/schema.yaml~', false],
  ])('%s: %s', (file, expected) => {
    expect(mayAffectPolicies(file)).toBe(expected);
  });
});

describe('watchPolicyDirectory', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('reloads for a policy file, not for a log written into the same directory', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-watch-'));
    const reasons: string[] = [];
    // A long quiet time puts both writes in one burst: a watcher that did not filter would
    // report the log, written last.
    const watcher = watchPolicyDirectory(dir, (reason) => reasons.push(reason), { debounceMs: 1000 });
    try {
      writeFileSync(join(dir, 'schema.yaml'), 'kind: schema\n');
      writeFileSync(join(dir, 'serve.log'), '{"msg":"policies unchanged"}\n');
      await vi.waitFor(() => expect(reasons.length).toBeGreaterThan(0), { timeout: 60_000, interval: 50 });
      for (const reason of reasons) expect(reason).toMatch(/schema\.yaml$/);
    } finally {
      watcher.close();
    }
  });
});
