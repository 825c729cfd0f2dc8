// LookupResources paging and ordering, LookupSubjects wildcard/exclusion semantics, and the
// errors both raise for bad requests.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../server/src/errors.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { crmSchema, engineOf } from './fixtures.js';

const user = (id: string) => ({ type: 'user', id });

describe('lookupResources', () => {
  const docs = Array.from(
    { length: 25 },
    (_, i) => `doc:d${String(i).padStart(2, '0')}#viewer@group:eng#member`,
  );
  const { engine } = engineOf(crmSchema, [
    ...docs,
    'group:eng#member@user:mike',
    'doc:d07#banned@user:mike',
    'doc:other#owner@user:john',
  ]);

  it('pages through every visible resource once, in id order', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = engine.lookupResources({
        resourceType: 'doc',
        permission: 'view',
        subject: user('mike'),
        limit: 10,
        cursor,
      });
      seen.push(...page.resourceIds);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    const expected = Array.from({ length: 25 }, (_, i) => `d${String(i).padStart(2, '0')}`).filter(
      (d) => d !== 'd07',
    );
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
  });

  it('caps the page size at the engine limit', () => {
    const { engine: small } = engineOf(crmSchema, [...docs, 'group:eng#member@user:mike'], {
      maxLookupPageSize: 4,
    });
    const page = small.lookupResources({
      resourceType: 'doc',
      permission: 'view',
      subject: user('mike'),
      limit: 100,
    });
    expect(page.resourceIds).toEqual(['d00', 'd01', 'd02', 'd03']);
    expect(page.nextCursor).toBeDefined();
  });

  it('returns nothing for a subject never seen', () => {
    expect(
      engine.lookupResources({ resourceType: 'doc', permission: 'view', subject: user('ghost') }),
    ).toEqual({
      resourceIds: [],
    });
  });

  it('rejects a forged cursor and a negative limit', () => {
    const base = { resourceType: 'doc', permission: 'view', subject: user('mike') };
    expect(() => engine.lookupResources({ ...base, cursor: 'not-ours' })).toThrow(InvalidArgumentError);
    expect(() => engine.lookupResources({ ...base, limit: -1 })).toThrow(/limit -1 is not a valid page size/);
    expect(() => engine.lookupResources({ ...base, resourceType: 'docs' })).toThrow(/did you mean 'doc'/);
  });

  it('pages from a cached answer that a write to the graph invalidates', () => {
    const { engine: paged, graph } = engineOf(crmSchema, [...docs, 'group:eng#member@user:mike']);
    const base = { resourceType: 'doc', permission: 'view', subject: user('mike'), limit: 10 };
    const first = paged.lookupResources(base);
    const second = paged.lookupResources({ ...base, cursor: first.nextCursor });
    expect(second.resourceIds).toEqual(Array.from({ length: 10 }, (_, i) => `d${10 + i}`));
    // A document appears inside the next page's range and one leaves it: the next call sees both.
    graph.add(parseRelationship('doc:d205#viewer@group:eng#member'));
    graph.remove(parseRelationship('doc:d21#viewer@group:eng#member'));
    const third = paged.lookupResources({ ...base, cursor: second.nextCursor });
    expect(third.resourceIds).toEqual(['d20', 'd205', 'd22', 'd23', 'd24']);
    expect(third.nextCursor).toBeUndefined();
    // Another subject's answer is its own, not the cached one.
    const other = paged.lookupResources({ ...base, subject: user('john'), cursor: first.nextCursor });
    expect(other.resourceIds).toEqual([]);
  });

  it('streams the same pages as repeated calls, from any cursor, in one walk', () => {
    const base = { resourceType: 'doc', permission: 'view', subject: user('mike') };
    for (const limit of [1, 3, 10, 24, 25]) {
      for (const cursor of [undefined, engine.lookupResources({ ...base, limit: 5 }).nextCursor]) {
        const repeated = [];
        let next = cursor;
        do {
          const page = engine.lookupResources({ ...base, limit, cursor: next });
          repeated.push(page);
          next = page.nextCursor;
        } while (next !== undefined);
        expect([...engine.lookupResourcePages({ ...base, limit, cursor })]).toEqual(repeated);
      }
    }
    // An empty answer is one empty page, as a single call gives.
    expect([...engine.lookupResourcePages({ ...base, subject: user('ghost') })]).toEqual([
      { resourceIds: [] },
    ]);
    expect(() => [...engine.lookupResourcePages({ ...base, cursor: 'not-ours' })]).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('lookupSubjects', () => {
  it('reports a wildcard with the subjects it excludes', () => {
    const { engine } = engineOf(crmSchema, [
      'doc:pub#viewer@user:*',
      'doc:pub#banned@user:bob',
      'doc:pub#owner@user:ann',
    ]);
    expect(
      engine.lookupSubjects({
        resource: { type: 'doc', id: 'pub' },
        permission: 'view',
        subjectType: 'user',
      }),
    ).toEqual({
      subjectIds: [],
      wildcard: true,
      excludedIds: ['bob'],
    });
  });

  it('lists concrete subjects through nested groups, and subject sets when asked', () => {
    const { engine } = engineOf(crmSchema, [
      'doc:plan#viewer@group:staff#member',
      'group:staff#member@group:eng#member',
      'group:eng#member@user:mike',
      'group:staff#member@user:ann',
      'doc:plan#owner@user:zed',
      'doc:plan#banned@user:ann',
    ]);
    const resource = { type: 'doc', id: 'plan' };
    expect(engine.lookupSubjects({ resource, permission: 'view', subjectType: 'user' })).toEqual({
      subjectIds: ['mike', 'zed'],
      wildcard: false,
      excludedIds: [],
    });
    expect(
      engine.lookupSubjects({
        resource,
        permission: 'view',
        subjectType: 'group',
        subjectRelation: 'member',
      }),
    ).toEqual({
      subjectIds: ['eng', 'staff'],
      wildcard: false,
      excludedIds: [],
    });
  });

  it('names the bad field', () => {
    const { engine } = engineOf(crmSchema, []);
    const resource = { type: 'doc', id: 'x' };
    try {
      engine.lookupSubjects({ resource, permission: 'view', subjectType: 'group', subjectRelation: 'membr' });
      expect.unreachable();
    } catch (err) {
      expect((err as InvalidArgumentError).field).toBe('optionalSubjectRelation');
      expect((err as Error).message).toContain("did you mean 'member'?");
    }
  });
});
