// String forms: what parses, what is rejected with which message and field, and that formatting round-trips.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import { formatRelationship, parseObject, parseRelationship, parseSubject } from './refs.js';

describe('parseSubject', () => {
  it.each([
    ['user:mike', { type: 'user', id: 'mike' }],
    ['group:marketing#member', { type: 'group', id: 'marketing', relation: 'member' }],
    ['user:*', { type: 'user', id: '*' }],
    ['team_crm/user:a.b-c', { type: 'team_crm/user', id: 'a.b-c' }],
  ])('parses %s', (input, expected) => {
    expect(parseSubject(input)).toEqual(expected);
  });

  it.each(['user', ':mike', 'user:', 'group:g#', 'group:#member', 'group:g#a#b', 'user:a@b'])(
    'rejects %s naming the input and the field',
    (input) => {
      const err = (() => {
        try {
          parseSubject(input, 'subject');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err).toMatchObject({ field: 'subject', message: expect.stringContaining(`'${input}'`) });
    },
  );
});

describe('parseObject', () => {
  it('parses type:id and rejects a subject set where an object is expected', () => {
    expect(parseObject('contact:p1')).toEqual({ type: 'contact', id: 'p1' });
    expect(() => parseObject('group:g#member')).toThrow(/an object is 'type:id'/);
  });
});

describe('parseRelationship', () => {
  it('splits at the relation before @, keeping a subject set relation on the subject', () => {
    expect(parseRelationship('contact:p1#viewer@group:marketing#member')).toEqual({
      resource: { type: 'contact', id: 'p1' },
      relation: 'viewer',
      subject: { type: 'group', id: 'marketing', relation: 'member' },
    });
  });

  it.each(['contact:p1@user:u', 'contact:p1#viewer', 'contact:p1#@user:u', 'contact#viewer@user:u'])(
    'rejects %s',
    (input) => {
      expect(() => parseRelationship(input)).toThrow(InvalidArgumentError);
    },
  );

  it('round-trips every well-formed relationship through its string form', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
    const id = fc.stringMatching(/^[A-Za-z0-9_\-=+|/.]{1,12}$/);
    const relationship = fc.record({
      resource: fc.record({ type: name, id }),
      relation: name,
      subject: fc.oneof(
        fc.record({ type: name, id }),
        fc.record({ type: name, id, relation: name }),
        fc.record({ type: name, id: fc.constant('*') }),
      ),
    });
    fc.assert(
      fc.property(relationship, (r) => {
        expect(parseRelationship(formatRelationship(r))).toEqual(r);
      }),
      { numRuns: 300 },
    );
  });
});

describe('relationship attributes in the string form', () => {
  it('reads a condition with or without parameters and an expiration, in SpiceDB notation', () => {
    expect(parseRelationship('doc:1#viewer@user:a[office_hours]')).toEqual({
      resource: { type: 'doc', id: '1' },
      relation: 'viewer',
      subject: { type: 'user', id: 'a' },
      condition: { name: 'office_hours' },
    });
    expect(
      parseRelationship(
        'doc:1#viewer@group:g#member[ip:{"cidr":"10.0.0.0/8","s":"]["}][expiration:2030-01-01T00:00:00Z]',
      ),
    ).toEqual({
      resource: { type: 'doc', id: '1' },
      relation: 'viewer',
      subject: { type: 'group', id: 'g', relation: 'member' },
      condition: { name: 'ip', context: { cidr: '10.0.0.0/8', s: '][' } },
      expiresAt: new Date('2030-01-01T00:00:00Z'),
    });
  });

  it.each([
    ['doc:1#viewer@user:a[', "expected '[name]'"],
    ['doc:1#viewer@user:a[c:{"x":1]', "expects '[c:{"],
    ['doc:1#viewer@user:a[c:{x:1}]', "condition 'c'"],
    ['doc:1#viewer@user:a[expiration:tomorrow]', 'RFC 3339'],
    ['doc:1#viewer@user:a[c][d]', 'more than one condition'],
  ])('rejects %s', (input, message) => {
    expect(() => parseRelationship(input, 'touch[0]')).toThrow(
      expect.objectContaining({ field: 'touch[0]', message: expect.stringContaining(message) }),
    );
  });
});
