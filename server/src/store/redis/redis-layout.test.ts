// Tests for the Redis data layout: key names under one hash tag, the member forms (the by-subject
// one and its buckets only name a legacy store's keys) and the changelog encoding.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../errors.js';
import { parseRelationship } from '../../model/relationship.js';
import {
  decodeChanges,
  encodeChanges,
  parseResourceMember,
  resourceMember,
  SUBJECT_BUCKETS,
  storeKeys,
  subjectBucketOf,
  subjectMember,
} from './redis-layout.js';

describe('storeKeys', () => {
  it('puts every key of a store under one hash tag', () => {
    const keys = storeKeys('tenant_7');
    for (const key of Object.values(keys)) expect(key.startsWith('{gatehouse:tenant_7}:')).toBe(true);
    expect(new Set(Object.values(keys)).size).toBe(12);
    // The scripts publish on `<changelog>:feed`: the name watchers subscribe to.
    expect(keys.changeFeed).toBe(`${keys.changelog}:feed`);
  });

  it.each(['', 'a.b', 'a}b', 'a{b', 'has space', 'x'.repeat(65)])('refuses the store name %j', (name) => {
    expect(() => storeKeys(name)).toThrow(InvalidArgumentError);
  });
});

describe('members', () => {
  it.each([
    'doc:a#viewer@user:x',
    'crm/contact:p-1.x=y|z#viewer@crm/group:g_2#member',
    'doc:a#viewer@user:*',
  ])('round-trips %s through the by-resource form', (text) => {
    const r = parseRelationship(text);
    expect(resourceMember(r)).toBe(text);
    expect(parseResourceMember(text)).toEqual(r);
  });

  it.each([
    ['doc:a#viewer@user:x', 'user:x#@doc:a#viewer'],
    ['doc:a#viewer@group:g#member', 'group:g#member@doc:a#viewer'],
  ])('builds the by-subject member of %s', (text, member) => {
    expect(subjectMember(parseRelationship(text))).toBe(member);
  });

  it('spreads subject objects over the buckets, the same bucket for every relation of one object', () => {
    expect(subjectBucketOf('user:x')).toBe(
      'user:x'.split('').reduce((h, c) => (h * 31 + c.charCodeAt(0)) % SUBJECT_BUCKETS, 0),
    );
    const buckets = new Set(Array.from({ length: 1000 }, (_, i) => subjectBucketOf(`user:u${i}`)));
    expect(buckets.size).toBeGreaterThan(990);
    for (const b of buckets) expect(b >= 0 && b < SUBJECT_BUCKETS).toBe(true);
  });

  it('encodes change sets in order and decodes them back', () => {
    const changes = [
      { operation: 'insert' as const, relationship: parseRelationship('doc:a#viewer@user:x') },
      { operation: 'delete' as const, relationship: parseRelationship('doc:a#viewer@group:g#member') },
    ];
    const text = encodeChanges(changes);
    expect(text).toBe('+doc:a#viewer@user:x\n-doc:a#viewer@group:g#member');
    expect(decodeChanges(text)).toEqual(changes);
    expect(decodeChanges('')).toEqual([]);
  });

  it('keeps a condition and an expiry on change lines, after the member', () => {
    const changes = [
      {
        operation: 'insert' as const,
        relationship: parseRelationship(
          'doc:a#viewer@user:x[cond:{"k":"a\\nb"}][expiration:2026-12-31T00:00:00.000Z]',
        ),
      },
      { operation: 'delete' as const, relationship: parseRelationship('doc:a#viewer@user:y[cond]') },
    ];
    const text = encodeChanges(changes);
    expect(text.split('\n')).toHaveLength(2);
    expect(text.startsWith('+doc:a#viewer@user:x[cond:')).toBe(true);
    expect(decodeChanges(text)).toEqual(changes);
  });
});
