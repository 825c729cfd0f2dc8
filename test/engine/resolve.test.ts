// The one resolve step: one error family with relative paths, '' normalised once, and the
// engine taking a resolved request as it is.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_CONTEXTUAL_RELATIONSHIPS, Resolver } from '../../server/src/engine/resolve.js';
import {
  InvalidArgumentError,
  LimitExceededError,
  RequestFieldError,
  underPrefix,
} from '../../server/src/errors.js';
import { engineOf, q } from './fixtures.js';
import { and, arrow, butNot, defineSchema, or, ref } from './schema-builder.js';

const definition = {
  user: {},
  org: { relations: { admin: 'user' } },
  group: { relations: { member: 'user | group#member' } },
  doc: {
    relations: { org: 'org', owner: 'user', viewer: 'user:* | group#member', banned: 'user' },
    permissions: {
      view: butNot(or(ref('owner'), ref('viewer'), arrow('org', 'admin')), ref('banned')),
      edit: and(ref('view'), ref('owner')),
    },
  },
};
const schema = defineSchema(definition);
const resolver = new Resolver(schema);

function failure(run: () => unknown): RequestFieldError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(RequestFieldError);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as RequestFieldError;
  }
  throw new Error('expected a RequestFieldError');
}

afterEach(() => vi.restoreAllMocks());

describe('Resolver errors', () => {
  it.each([
    [
      'an unknown resource type',
      q('dok:a#view@user:mike'),
      'resource',
      /^resource type 'dok' is not defined/,
    ],
    [
      'a malformed resource type',
      { ...q('doc:a#view@user:mike'), resource: { type: 'Doc', id: 'a' } },
      'resource',
      /^invalid resource type 'Doc'/,
    ],
    [
      'a malformed resource id',
      { ...q('doc:a#view@user:mike'), resource: { type: 'doc', id: 'a b' } },
      'resource',
      /^invalid resource id 'a b' of 'doc'/,
    ],
    [
      'a missing permission',
      { ...q('doc:a#view@user:mike'), permission: '' },
      'permission',
      /^permission is required/,
    ],
    [
      'an unknown permission',
      q('doc:a#veiw@user:mike'),
      'permission',
      /'veiw' \(did you mean 'view'\?\); declared: /,
    ],
    [
      'an unknown subject relation',
      q('doc:a#view@group:eng#owner'),
      'subject',
      /no permission or relation 'owner'/,
    ],
    [
      'a wildcard with a relation',
      { ...q('doc:a#view@user:mike'), subject: { type: 'user', id: '*', relation: 'x' } },
      'subject',
      /^invalid subject 'user:\*#x': a wildcard cannot name a relation/,
    ],
  ])('names %s by its path in the request', (_name, request, field, message) => {
    const err = failure(() => resolver.check(request));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('re-roots an error under a batch item: field and message both name items[i]', () => {
    const err = failure(() =>
      resolver.check({ ...q('doc:a#view@user:mike'), resource: { type: 'doc', id: 'a b' } }),
    );
    const rooted = err.under('items[3].');
    expect(rooted.field).toBe('items[3].resource');
    expect(rooted.message).toBe(err.message.replace(/^invalid resource /, 'invalid items[3].resource '));
    expect(rooted.code).toBe('INVALID_ARGUMENT');
  });

  it('puts contextual relationships through the write rules, syntax at .resource/.subject, schema at the item', () => {
    const base = q('doc:a#view@user:mike');
    const rel = (resource: string, relation: string, subject: string) => ({
      resource: { type: 'doc', id: resource },
      relation,
      subject: { type: 'user', id: subject },
    });
    expect(
      failure(() => resolver.check({ ...base, contextualRelationships: [rel('a', 'viewer', 'x y')] })).field,
    ).toBe('contextualRelationships[0].subject');
    const schemaRule = failure(() =>
      resolver.check({
        ...base,
        contextualRelationships: [rel('a', 'owner', 'ann'), rel('a', 'view', 'ann')],
      }),
    );
    expect(schemaRule.field).toBe('contextualRelationships[1]');
    expect(schemaRule.message).toMatch(/'view' is a permission of 'doc'/);
    expect(
      failure(() => resolver.check({ ...base, context: [] as unknown as Record<string, unknown> })).field,
    ).toBe('context');
    const many = Array.from({ length: MAX_CONTEXTUAL_RELATIONSHIPS + 1 }, () => rel('a', 'viewer', 'ann'));
    let limit: unknown;
    try {
      resolver.check({ ...base, contextualRelationships: many });
    } catch (err) {
      limit = err;
    }
    expect(limit).toBeInstanceOf(LimitExceededError);
    expect(underPrefix(limit, 'items[0].').field).toBe('items[0].contextualRelationships');
  });

  it('names lookup fields by their API names', () => {
    const subject = { type: 'user', id: 'mike' };
    expect(
      failure(() => resolver.lookupResources({ resourceType: 'dok', permission: 'view', subject })).field,
    ).toBe('resourceObjectType');
    const bad = { resource: { type: 'doc', id: 'a' }, permission: 'view' };
    expect(failure(() => resolver.lookupSubjects({ ...bad, subjectType: 'usr' })).field).toBe(
      'subjectObjectType',
    );
    expect(
      failure(() => resolver.lookupSubjects({ ...bad, subjectType: 'group', subjectRelation: 'membr' }))
        .message,
    ).toMatch(/did you mean 'member'/);
  });
});

describe("'' relations", () => {
  it('mean "no relation", dropped once by the resolver for checks, lookups and relationships', () => {
    const check = resolver.check({
      ...q('doc:a#view@user:mike'),
      subject: { type: 'user', id: 'mike', relation: '' },
    });
    expect(check.subject).toEqual({ type: 'user', id: 'mike' });
    expect(check.subjectNode).toBe(-1);
    const lookup = resolver.lookupSubjects({
      resource: { type: 'doc', id: 'a' },
      permission: 'view',
      subjectType: 'user',
      subjectRelation: '',
    });
    expect(lookup.subjectRelation).toBeUndefined();
    const written = resolver.relationship(
      {
        resource: { type: 'doc', id: 'a' },
        relation: 'owner',
        subject: { type: 'user', id: 'ann', relation: '' },
      },
      'updates[0].relationship',
    );
    expect(written.subject).toEqual({ type: 'user', id: 'ann' });
  });
});

describe('the engine and resolved requests', () => {
  const relationships = [
    'doc:a#owner@user:ann',
    'doc:a#viewer@group:eng#member',
    'group:eng#member@user:bob',
  ];

  it('evaluates a resolved check without resolving it again, with the plain answer', () => {
    const { engine } = engineOf(schema, relationships);
    const questions = [
      'doc:a#view@user:ann',
      'doc:a#edit@user:bob',
      'doc:a#view@user:bob',
      'doc:a#view@user:eve',
    ];
    const resolved = questions.map((t) => resolver.check(q(t)));
    const check = vi.spyOn(Resolver.prototype, 'check');
    const names = vi.spyOn(Resolver.prototype, 'names');
    const answers = resolved.map((r) => engine.decide(r).permissionship);
    expect(resolved.map((r) => engine.check(r))).toEqual([true, false, true, false]);
    expect(check).not.toHaveBeenCalled();
    expect(names).not.toHaveBeenCalled();
    expect(answers).toEqual(questions.map((t) => engine.decide(q(t)).permissionship));
    expect(answers).toEqual(['allowed', 'denied', 'allowed', 'denied']);
  });

  it('resolves again a check resolved against another schema object (its numbers may differ)', () => {
    const { engine } = engineOf(schema, relationships);
    // The same types declared in another order: other type and node numbers.
    const reordered = defineSchema({
      doc: definition.doc,
      group: definition.group,
      org: definition.org,
      user: {},
    });
    const foreign = new Resolver(reordered).check(q('doc:a#view@group:eng#member'));
    const names = vi.spyOn(Resolver.prototype, 'names');
    expect(engine.decide(foreign).permissionship).toBe('allowed');
    expect(names).toHaveBeenCalledTimes(1);
  });
});
