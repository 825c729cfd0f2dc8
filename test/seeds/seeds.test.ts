// The five seed systems load together as one policy set and every test file passes with a
// non-trivial number of assertions.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicySet } from '../../server/src/policy/index.js';
import { loadPolicySet } from '../../server/src/policy/index.js';
import type { PolicyTestReport } from '../../server/src/testing/index.js';
import { runPolicyTests } from '../../server/src/testing/index.js';

const SYSTEMS = ['carrier_panel', 'client_portal', 'helpdesk', 'sales_crm', 'team_crm'];

let set: PolicySet;
let report: PolicyTestReport;
beforeAll(async () => {
  set = await loadPolicySet('policies');
  report = await runPolicyTests(set);
});

describe('seed policies', () => {
  it('declare each system in its own namespace', () => {
    const types = [...set.schema.types.keys()];
    const namespaces = new Set(types.filter((t) => t.includes('/')).map((type) => type.split('/')[0]));
    expect([...namespaces].sort()).toEqual(SYSTEMS);
    // Only the AuthZEN Todo example (policies/authzen_todo) is bare: its PEP sends `user`, `todo`.
    expect(types.filter((t) => !t.includes('/')).sort()).toEqual(['app', 'todo', 'user']);
  });

  it('pass every test file with nothing skipped', () => {
    const failures = report.files.flatMap((f) =>
      f.failures.map((x) => `${x.position.file}:${x.position.line}: ${x.source}: ${x.message}`),
    );
    expect(failures).toEqual([]);
    expect(report.files.filter((f) => f.notRun > 0).map((f) => f.path)).toEqual([]);
    expect(report.failed).toBe(0);
  });

  it('test every system, each file with a real number of checks', () => {
    for (const system of SYSTEMS) {
      const files = report.files.filter((f) => f.path.startsWith(`${system}/`));
      expect(files.length, system).toBeGreaterThanOrEqual(1);
      for (const file of files) expect(file.checks, file.path).toBeGreaterThanOrEqual(10);
    }
    expect(report.passed).toBeGreaterThanOrEqual(250);
  });

  it('assert denials as well as grants, and change state in steps, in every system', () => {
    for (const system of SYSTEMS) {
      const tests = set.tests.filter((t) => t.path.startsWith(`${system}/`));
      const items = tests.flatMap((t) => [...t.assertions, ...t.steps]);
      const kinds = new Set(items.map((i) => i.kind));
      for (const kind of ['allowed', 'denied', 'write'])
        expect(kinds.has(kind as never), `${system} ${kind}`).toBe(true);
      const lookups = tests.flatMap((t) => [...t.lookups, ...t.steps]).map((i) => i.kind);
      expect(lookups, system).toContain('resources');
      expect(lookups, system).toContain('subjects');
    }
  });
});
