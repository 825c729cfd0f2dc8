// ValidatePolicies compiles in a worker thread: same verdicts, checks answered meanwhile, bounded queue, input and heap.
import { afterEach, describe, expect, it } from 'vitest';
import { GatehouseError, PolicyError } from '../../server/src/errors.js';
import { compilePolicySet, type PolicyFileSource } from '../../server/src/policy/index.js';
import { checkOf, ctx, DATA_YAML, type Fixture, SCHEMA_YAML, startService } from './fixture.js';

let f: Fixture | undefined;
afterEach(() => {
  f?.service.close();
  f = undefined;
});

/** A schema plus `n` relationships: large enough that compiling it takes a while and a lot of heap. */
function bigFiles(n: number): PolicyFileSource[] {
  const lines = ['kind: relationships', 'relationships:'];
  for (let i = 0; i < n; i++) lines.push(`  - document:doc${i}#viewer@group:g${i % 997}#member`);
  return [
    { path: 'schema.yaml', content: SCHEMA_YAML },
    { path: 'data.yaml', content: `${lines.join('\n')}\n` },
  ];
}

/** What compilePolicySet on the main thread says about the files, in ValidatePolicies' shape. */
function direct(files: readonly PolicyFileSource[]): { valid: boolean; problems: readonly unknown[] } {
  try {
    compilePolicySet(files);
    return { valid: true, problems: [] };
  } catch (err) {
    if (err instanceof PolicyError) return { valid: false, problems: err.problems };
    throw err;
  }
}

async function rejection(p: Promise<unknown>): Promise<GatehouseError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatehouseError);
  return err as GatehouseError;
}

describe('ValidatePolicies in a worker thread', () => {
  it('gives the same verdicts as compiling on the main thread, for valid and invalid files', async () => {
    f = await startService();
    const cases: PolicyFileSource[][] = [
      [
        { path: 's.yaml', content: SCHEMA_YAML },
        { path: 'd.yaml', content: DATA_YAML },
      ],
      [{ path: 's.yaml', content: 'kind: schema\ntypes:\n  doc:\n    relations:\n      owner: usr\n' }],
      [
        { path: 's.yaml', content: SCHEMA_YAML },
        {
          path: 'd.yaml',
          content: 'kind: relationships\nrelationships:\n  - document:x#nope@user:a\n  - bad\n',
        },
      ],
      [{ path: 'x.yaml', content: 'kind: [unclosed' }],
    ];
    for (const files of cases) {
      expect(await f.service.validatePolicies({ files }, ctx())).toEqual(direct(files));
    }
    expect(direct(cases[1] ?? []).valid).toBe(false);
  });

  it('keeps answering checks while a large validation runs', async () => {
    f = await startService();
    const files = bigFiles(60_000);
    const order: string[] = [];
    const validation = f.service.validatePolicies({ files }, ctx()).then((r) => {
      order.push('validation');
      return r;
    });
    // Several checks in sequence, each issued after the previous one answered.
    for (let i = 0; i < 3; i++) {
      const r = await f.service.check(checkOf('document:readme', 'view', 'user:alice'), ctx());
      expect(r.allowed).toBe(true);
      order.push(`check${i}`);
    }
    const result = await validation;
    expect(result.valid).toBe(true);
    expect(order).toEqual(['check0', 'check1', 'check2', 'validation']);
  });

  it('refuses calls past the queue with RESOURCE_EXHAUSTED, then serves again', async () => {
    f = await startService({ validator: { workers: 1, maxQueued: 1 } });
    const files = bigFiles(20_000);
    const running = f.service.validatePolicies({ files }, ctx());
    const queued = f.service.validatePolicies({ files }, ctx());
    const err = await rejection(f.service.validatePolicies({ files }, ctx()));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.message).toMatch(/too many policy validations in progress/);
    expect((await running).valid).toBe(true);
    expect((await queued).valid).toBe(true);
    expect((await f.service.validatePolicies({ files }, ctx())).valid).toBe(true);
  });

  it('refuses input over the size limit with an error naming the limit', async () => {
    f = await startService({ limits: { maxBodyBytes: 1000 } });
    const err = await rejection(
      f.service.validatePolicies({ files: [{ path: 'big.yaml', content: 'x'.repeat(2000) }] }, ctx()),
    );
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.field).toBe('files');
    expect(err.message).toMatch(/2008 bytes, over the ValidatePolicies limit of 1000 bytes/);
  });

  it('answers a worker out of memory with a clear error, and the next validation works', async () => {
    f = await startService({ validator: { maxHeapMb: 16 } });
    const err = await rejection(f.service.validatePolicies({ files: bigFiles(75_000) }, ctx()));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.message).toMatch(/more than the validator's 16 MB heap/);
    const ok = await f.service.validatePolicies(
      {
        files: [
          { path: 's.yaml', content: SCHEMA_YAML },
          { path: 'd.yaml', content: DATA_YAML },
        ],
      },
      ctx(),
    );
    expect(ok).toEqual({ valid: true, problems: [] });
  });
});
