// Lookups in `kind: test` files with conditions: a lookup takes `context`, `now` and
// `contextual_relationships` like a check, and `conditional:` beside `expect` lists its
// conditional results exactly; a wrong list fails the file naming what differed.
import { afterEach, describe, expect, it } from 'vitest';
import { problemLines, yaml } from '../policy/compile-helpers.js';
import { removePolicyDir, runCli, writePolicyDir } from './cli-harness.js';

const SCHEMA = yaml`
  kind: schema
  conditions:
    office:
      parameters:
        cidr: string
        ip: ipaddress
      expression: ip.in_cidr(cidr)
  types:
    user: {}
    doc:
      relations:
        viewer: user or user with office
`;

const DATA = yaml`
  kind: relationships
  relationships:
    - 'doc:a#viewer@user:ann[office:{"cidr":"10.0.0.0/8"}]'
    - doc:b#viewer@user:ann
    - doc:c#viewer@user:ann[expiration:2026-07-01T00:00:00Z]
    - 'doc:a#viewer@user:bob[office:{"cidr":"10.0.0.0/8"}]'
`;

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await removePolicyDir(dir);
  dir = undefined;
});

async function runTests(test: string): Promise<{ code: number; stdout: string }> {
  dir = await writePolicyDir({ 'schema.yaml': SCHEMA, 'data.yaml': DATA, 'lookups.test.yaml': test });
  const run = await runCli('test', dir);
  return { code: run.code, stdout: run.stdout + run.stderr };
}

describe('lookups in test files', () => {
  it('take context, now and contextual relationships, and list conditional results', async () => {
    const run = await runTests(yaml`
      kind: test
      name: lookups
      lookups:
        - resources: doc#viewer@user:ann
          now: 2026-06-01T00:00:00Z
          expect: [doc:b, doc:c]
          conditional: [doc:a]
        - resources: doc#viewer@user:ann
          now: 2026-07-01T00:00:00Z
          context: { ip: 10.1.2.3 }
          expect: [doc:a, doc:b]
          conditional: []
        - resources: doc#viewer@user:eve
          contextual_relationships: [doc:z#viewer@user:eve]
          expect: [doc:z]
        - subjects: doc:a#viewer@user
          expect: []
          conditional: [user:ann, user:bob]
        - subjects: doc:a#viewer@user
          context: { ip: 192.0.2.1 }
          expect: []
          conditional: []
      steps:
        - resources: doc#viewer@user:bob
          expect: []
          conditional: [doc:a]
    `);
    expect(run.stdout).toContain('passed, 0 failed');
    expect(run.code).toBe(0);
  });

  it('fail when the conditional list differs, naming the difference', async () => {
    const run = await runTests(yaml`
      kind: test
      name: wrong
      lookups:
        - resources: doc#viewer@user:ann
          now: 2026-06-01T00:00:00Z
          expect: [doc:b, doc:c]
          conditional: []
    `);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toContain('conditional: expected [], got [doc:a]; unexpected [doc:a]');
  });

  it('without conditional: check only the allowed results', async () => {
    const run = await runTests(yaml`
      kind: test
      name: allowed only
      lookups:
        - resources: doc#viewer@user:ann
          now: 2026-06-01T00:00:00Z
          expect: [doc:b, doc:c]
    `);
    expect(run.code).toBe(0);
  });

  it("refuse 'missing' on a lookup and resolve conditional ids against the schema", () => {
    const lines = problemLines({
      'schema.yaml': SCHEMA,
      't.test.yaml': yaml`
        kind: test
        name: bad
        lookups:
          - resources: doc#viewer@user:ann
            expect: []
            missing: [ip]
          - resources: doc#viewer@user:ann
            expect: []
            conditional: [folder:x]
      `,
    });
    expect(lines).toEqual([
      expect.stringMatching(
        /^t\.test\.yaml:6:5: 'missing' belongs to a 'conditional' check, not to 'resources'/,
      ),
      expect.stringMatching(
        /^t\.test\.yaml:9:19: expected object 'folder:x' is not of the looked-up type 'doc'/,
      ),
    ]);
  });
});
