// runPolicyTests end to end over a compiled in-memory policy set: counts, positions, step
// order, deletion consequences, and per-file isolation.
import { describe, expect, it } from 'vitest';
import { compilePolicySet } from '../policy/index.js';
import { runPolicyTests } from './run-policy-tests.js';

const SCHEMA = `kind: schema
types:
  user: {}
  group:
    relations:
      member: user
  doc:
    relations:
      viewer:
        types: user:* or group#member
        if_emptied_by_delete: user:*
    permissions:
      view: viewer
`;

const DATA = `kind: relationships
relationships:
  - group:eng#member@user:ann
  - doc:d1#viewer@group:eng#member
`;

function policySet(tests: Record<string, string>): ReturnType<typeof compilePolicySet> {
  return compilePolicySet([
    { path: 'schema.yaml', content: SCHEMA },
    { path: 'data.yaml', content: DATA },
    ...Object.entries(tests).map(([path, content]) => ({ path, content })),
  ]);
}

describe('runPolicyTests', () => {
  it('counts checks and reports each failure at its line with expected and actual', async () => {
    const report = await runPolicyTests(
      policySet({
        'a.test.yaml': `kind: test
name: mixed
assertions:
  - allowed: doc:d1#view@user:ann
  - allowed: doc:d1#view@user:bob
lookups:
  - resources: doc#view@user:ann
    expect: [doc:d1, doc:d2]
`,
      }),
    );
    expect(report.passed).toBe(1);
    expect(report.failed).toBe(2);
    const [file] = report.files;
    expect(file).toMatchObject({ path: 'a.test.yaml', name: 'mixed', checks: 3, passed: 1, notRun: 0 });
    expect(file!.failures).toEqual([
      {
        position: expect.objectContaining({ file: 'a.test.yaml', line: 5 }),
        source: 'allowed: doc:d1#view@user:bob',
        message: [
          'expected allowed, got denied, because:',
          '✗ doc:d1#view (permission)',
          '  ✗ doc:d1#viewer (relation)',
          '    ✗ doc:d1#viewer@group:eng#member',
          '      ✗ group:eng#member (relation)',
        ].join('\n'),
      },
      {
        position: expect.objectContaining({ file: 'a.test.yaml', line: 7 }),
        source: 'resources: doc#view@user:ann',
        message: 'expected [doc:d1, doc:d2], got [doc:d1]; missing [doc:d2]',
      },
    ]);
  });

  it('runs steps in order, applying writes, deletes and deletion consequences to the graph', async () => {
    const report = await runPolicyTests(
      policySet({
        'steps.test.yaml': `kind: test
name: steps
steps:
  - denied: doc:d1#view@user:bob
  - write: [group:eng#member@user:bob]
  - allowed: doc:d1#view@user:bob
  - delete: [group:eng#member@user:bob]
  - denied: doc:d1#view@user:bob
  - delete_object: group:eng
  - allowed: doc:d1#view@user:bob
  - subjects: doc:d1#view@user
    expect: ['user:*']
`,
      }),
    );
    expect(report.files[0]!.failures).toEqual([]);
    expect(report).toMatchObject({ passed: 5, failed: 0 });
  });

  it('runs and counts conditional checks among the steps, not only among the assertions', async () => {
    // A `conditional:` step once fell through to the mutation switch and was silently skipped.
    const report = await runPolicyTests(
      policySet({
        'c.test.yaml': `kind: test
name: conditional step
steps:
  - write: [group:eng#member@user:bob]
  - conditional: doc:d1#view@user:bob
`,
      }),
    );
    const [file] = report.files;
    expect(file).toMatchObject({ checks: 1, passed: 0, notRun: 0 });
    expect(file!.failures.map((f) => [f.source, f.message.split(',')[0]])).toEqual([
      ['conditional: doc:d1#view@user:bob', 'expected conditional'],
    ]);
  });

  it('starts every file from the policy data plus only its own fixtures', async () => {
    const report = await runPolicyTests(
      policySet({
        'a.test.yaml': `kind: test
name: writes bob in
relationships: [group:eng#member@user:carl]
steps:
  - write: [group:eng#member@user:bob]
  - allowed: doc:d1#view@user:bob
  - allowed: doc:d1#view@user:carl
`,
        'b.test.yaml': `kind: test
name: sees neither
assertions:
  - denied: doc:d1#view@user:bob
  - denied: doc:d1#view@user:carl
  - allowed: doc:d1#view@user:ann
`,
      }),
    );
    expect(report.files.map((f) => [f.path, f.failures.length, f.checks])).toEqual([
      ['a.test.yaml', 0, 2],
      ['b.test.yaml', 0, 3],
    ]);
  });

  it('stops a file at a step the graph rejects, reporting it and the checks it skipped', async () => {
    const set = policySet({
      'bad-step.test.yaml': `kind: test
name: bad step
steps:
  - allowed: doc:d1#view@user:ann
  - write: [group:eng#member@user:bob]
  - allowed: doc:d1#view@user:bob
  - denied: doc:d1#view@user:carl
`,
    });
    // Compiled sets never hold such a write; a hand-built one shows the runner survives it.
    const [test] = set.tests;
    const write = test!.steps[1]!;
    if (write.kind !== 'write') throw new Error('fixture out of shape');
    const relationship = { ...write.relationships[0]!.relationship, relation: 'owner' };
    const steps = [...test!.steps];
    steps[1] = { ...write, relationships: [{ ...write.relationships[0]!, relationship }] };
    const report = await runPolicyTests({ ...set, tests: [{ ...test!, steps }] });
    const [file] = report.files;
    expect(file).toMatchObject({ checks: 1, passed: 1, notRun: 2 });
    expect(file!.failures).toHaveLength(1);
    expect(file!.failures[0]).toMatchObject({
      position: expect.objectContaining({ line: 5 }),
      source: 'write',
    });
    expect(file!.failures[0]!.message).toMatch(/^step failed: .*owner/);
  });

  it('reports fixtures the graph cannot load as a failure of that file only', async () => {
    const set = policySet({
      'a.test.yaml': `kind: test
name: broken fixtures
relationships: [group:eng#member@user:bob]
assertions:
  - allowed: doc:d1#view@user:bob
`,
      'b.test.yaml': `kind: test
name: fine
assertions:
  - allowed: doc:d1#view@user:ann
`,
    });
    const [a, b] = set.tests;
    const fixture = a!.relationships[0]!;
    const broken = {
      ...a!,
      relationships: [{ ...fixture, relationship: { ...fixture.relationship, relation: 'owner' } }],
    };
    const report = await runPolicyTests({ ...set, tests: [broken, b!] });
    expect(report.files[0]).toMatchObject({ checks: 0, notRun: 1 });
    expect(report.files[0]!.failures[0]!.message).toMatch(/^could not load the fixtures: /);
    expect(report.files[1]).toMatchObject({ checks: 1, passed: 1, failures: [] });
  });
});
