// `gatehouse check`: allowed (exit 0) or denied (exit 2) with the explanation, and exit 1
// with a precise message for malformed or unknown input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_DATA, DOCS_SCHEMA, removePolicyDir, runCli, writePolicyDir } from './cli-harness.js';

let dir = '';
beforeAll(async () => {
  dir = await writePolicyDir({ 'schema.yaml': DOCS_SCHEMA, 'data.yaml': DOCS_DATA });
});
afterAll(async () => {
  await removePolicyDir(dir);
});

describe('gatehouse check', () => {
  it('answers allowed with the path through the graph, exit 0', async () => {
    const run = await runCli('check', dir, 'docs/contact:prospect1#view@docs/user:mike');
    expect(run.code).toBe(0);
    const [answer, ...explanation] = run.stdout.trimEnd().split('\n');
    expect(answer).toBe('allowed');
    // The explanation names the group edge that granted access.
    expect(explanation.join('\n')).toContain('group:marketing');
    expect(run.stderr).toBe('');
  });

  it('answers denied with an explanation, exit 2', async () => {
    const run = await runCli('check', dir, 'docs/contact:prospect1#view@docs/user:stranger');
    expect(run.code).toBe(2);
    const [answer, ...explanation] = run.stdout.trimEnd().split('\n');
    expect(answer).toBe('denied');
    expect(explanation.length).toBeGreaterThan(0);
  });

  it('checks the seed policies with namespaced names written in full', async () => {
    const allowed = await runCli('check', 'policies', 'team_crm/contact:prospect1#view@team_crm/user:mike');
    expect(allowed.code).toBe(0);
    const denied = await runCli('check', 'policies', 'team_crm/contact:prospect2#view@team_crm/user:sue');
    expect(denied.code).toBe(2);
  });

  it('suggests the namespaced type when the prefix is missing, exit 1', async () => {
    const run = await runCli('check', dir, 'contact:prospect1#view@docs/user:mike');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain("unknown resource type 'contact'");
    expect(run.stderr).toContain("did you mean 'docs/contact'?");
  });

  it('rejects a malformed tuple, quoting it, exit 1', async () => {
    const run = await runCli('check', dir, 'docs/contact:prospect1@docs/user:mike');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("'docs/contact:prospect1@docs/user:mike'");
    expect(run.stderr).toContain('the resource needs a relation');
  });

  it('rejects an unknown permission through the engine, exit 1', async () => {
    const run = await runCli('check', dir, 'docs/contact:prospect1#edit@docs/user:mike');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('edit');
  });

  it('reports invalid policies before checking, exit 1', async () => {
    const bad = await writePolicyDir({ 'schema.yaml': DOCS_SCHEMA.replace('member: user', 'member: usr') });
    try {
      const run = await runCli('check', bad, 'docs/contact:p#view@docs/user:mike');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^${bad}/schema\\.yaml:7:\\d+: .*usr`));
    } finally {
      await removePolicyDir(bad);
    }
  });

  it('needs a directory and a tuple', async () => {
    const run = await runCli('check', dir);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('missing RESOURCE#PERMISSION@SUBJECT');
  });
});
