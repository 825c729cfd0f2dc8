// Read use cases of GatehouseService: check, batch, lookups, explain, and their validation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../server/src/errors.js';
import { checkOf, ctx, type Fixture, startService } from './fixture.js';

let f: Fixture;
beforeEach(async () => {
  f = await startService({ limits: { maxBatchSize: 3, maxPageSize: 2 } });
});
afterEach(() => f.service.close());

async function rejection(p: Promise<unknown>): Promise<GatehouseError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatehouseError);
  return err as GatehouseError;
}

describe('check', () => {
  it('allows through nested groups and denies strangers, stamped with the current revision token', async () => {
    const allowed = await f.service.check(checkOf('document:readme', 'view', 'user:alice'), ctx());
    const denied = await f.service.check(checkOf('document:readme', 'edit', 'user:alice'), ctx());
    expect(allowed.allowed).toBe(true);
    expect(denied.allowed).toBe(false);
    expect(allowed.token).toBe(denied.token);
    expect(allowed.token).toMatch(/^GH2\./);
  });

  it.each([
    [
      'unknown resource type with a suggestion',
      checkOf('documnt:readme', 'view', 'user:alice'),
      'resource',
      /did you mean 'document'/,
    ],
    ['unknown permission', checkOf('document:readme', 'viwe', 'user:alice'), 'permission', /viwe/],
    ['unknown subject type', checkOf('document:readme', 'view', 'robot:r2'), 'subject', /robot/],
    ['malformed id', checkOf('document:read me', 'view', 'user:alice'), 'resource', /read me/],
    ['missing permission', checkOf('document:readme', '', 'user:alice'), 'permission', /required/],
  ])('rejects %s with INVALID_ARGUMENT naming the field', async (_name, params, field, message) => {
    const err = await rejection(f.service.check(params, ctx()));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('rejects a garbage revision token with INVALID_ARGUMENT', async () => {
    const err = await rejection(
      f.service.check(
        {
          ...checkOf('document:readme', 'view', 'user:alice'),
          consistency: { kind: 'at_least_as_fresh', token: 'nope' },
        },
        ctx(),
      ),
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.field).toBe('consistency.atLeastAsFresh.token');
  });
});

describe('checkBatch', () => {
  it('answers in request order with per-item errors that do not fail the batch', async () => {
    const r = await f.service.checkBatch(
      {
        items: [
          checkOf('document:plan', 'view', 'user:alice'),
          checkOf('document:plan', 'nope', 'user:alice'),
          checkOf('document:plan', 'edit', 'user:alice'),
        ],
      },
      ctx(),
    );
    expect(r.results[0]).toEqual({ allowed: true, permissionship: 'allowed' });
    expect(r.results[1]?.error?.code).toBe('INVALID_ARGUMENT');
    expect(r.results[1]?.error?.field).toBe('items[1].permission');
    expect(r.results[2]).toEqual({ allowed: false, permissionship: 'denied' });
  });

  it('names a bad item by its place in the batch, in the field and in the message', async () => {
    const r = await f.service.checkBatch(
      {
        items: [
          checkOf('document:plan', 'view', 'user:alice'),
          checkOf('document:plan', 'view', 'user:alice'),
          checkOf('document:pl an', 'view', 'user:alice'),
        ],
      },
      ctx(),
    );
    expect(r.results[2]?.error?.field).toBe('items[2].resource');
    expect(r.results[2]?.error?.message).toMatch(/^invalid items\[2\]\.resource id 'pl an' of 'document'/);
    expect(r.results[0]).toEqual({ allowed: true, permissionship: 'allowed' });
  });

  it('refuses a batch over the configured limit with RESOURCE_EXHAUSTED', async () => {
    const items = Array.from({ length: 4 }, () => checkOf('document:plan', 'view', 'user:alice'));
    const err = await rejection(f.service.checkBatch({ items }, ctx()));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.message).toMatch(/4 checks exceeds the limit of 3/);
  });
});

describe('lookups and explain', () => {
  it('pages lookupResources with the configured maximum page size and a cursor', async () => {
    await f.service.writeRelationships(
      {
        updates: [
          {
            operation: 'touch',
            relationship: {
              resource: { type: 'document', id: 'zeta' },
              relation: 'viewer',
              subject: { type: 'user', id: 'alice' },
            },
          },
        ],
      },
      ctx(),
    );
    const params = {
      resourceType: 'document',
      permission: 'view',
      subject: { type: 'user', id: 'alice' },
      pageSize: 50,
    };
    const first = await f.service.lookupResources(params, ctx());
    expect(first.resourceIds).toHaveLength(2);
    expect(first.nextCursor).toBeDefined();
    const second = await f.service.lookupResources({ ...params, cursor: first.nextCursor }, ctx());
    expect([...first.resourceIds, ...second.resourceIds].sort()).toEqual(['plan', 'readme', 'zeta']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('streams every page at one revision', async () => {
    const pages: string[][] = [];
    const tokens = new Set<string>();
    await f.service.streamLookupResources(
      { resourceType: 'document', permission: 'view', subject: { type: 'user', id: 'alice' }, pageSize: 1 },
      ctx(),
      {
        write: (page) => {
          pages.push([...page.resourceIds]);
          tokens.add(page.token);
          return true;
        },
        ready: () => Promise.resolve(),
        closed: false,
      },
    );
    expect(pages.flat().sort()).toEqual(['plan', 'readme']);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(tokens.size).toBe(1);
  });

  it('looks up subjects and explains a decision', async () => {
    const subjects = await f.service.lookupSubjects(
      { resource: { type: 'document', id: 'plan' }, permission: 'view', subjectType: 'user' },
      ctx(),
    );
    expect([...subjects.subjectIds].sort()).toEqual(['alice', 'bob']);
    expect(subjects.wildcard).toBe(false);
    const why = await f.service.explain(checkOf('document:plan', 'view', 'user:alice'), ctx());
    expect(why.allowed).toBe(true);
    expect(why.root.result).toBe(true);
  });

  it('rejects an unknown subject relation in lookupSubjects', async () => {
    const err = await rejection(
      f.service.lookupSubjects(
        {
          resource: { type: 'document', id: 'plan' },
          permission: 'view',
          subjectType: 'group',
          subjectRelation: 'membr',
        },
        ctx(),
      ),
    );
    expect(err.field).toBe('optionalSubjectRelation');
  });
});

describe('schema and policies', () => {
  it('serves the schema as JSON with its hash', () => {
    const s = f.service.readSchema(ctx());
    expect(s.schemaHash).toBe(f.service.schema.hash);
    expect(s.schemaJson).toContain('document');
    expect(() => JSON.parse(s.schemaJson)).not.toThrow();
  });

  it('validates policy files, returning every problem with its position', async () => {
    const ok = await f.service.validatePolicies(
      { files: [{ path: 's.yaml', content: 'kind: schema\ntypes:\n  user: {}\n' }] },
      ctx(),
    );
    expect(ok).toEqual({ valid: true, problems: [] });
    const bad = await f.service.validatePolicies(
      {
        files: [
          { path: 's.yaml', content: 'kind: schema\ntypes:\n  doc:\n    relations:\n      owner: usr\n' },
        ],
      },
      ctx(),
    );
    expect(bad.valid).toBe(false);
    expect(bad.problems[0]?.position.file).toBe('s.yaml');
    expect(bad.problems[0]?.position.line).toBe(5);
  });
});
