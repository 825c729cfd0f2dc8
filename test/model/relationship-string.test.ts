import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../server/src/errors.js';
import {
  formatRelationship,
  formatRelationshipWithAttributes,
  parseCheckTuple,
  parseRelationship,
  relationshipKey,
} from '../../server/src/model/relationship.js';

describe('relationship strings with a condition and an expiry', () => {
  it('reads a condition with parameters and an expiry, and writes them back the same', () => {
    const s =
      'document:d1#viewer@user:ann[ip_allowlist:{"cidrs":["10.0.0.0/8"],"note":"a]b{"}][expiration:2026-12-31T00:00:00.000Z]';
    const r = parseRelationship(s);
    expect(r.condition).toEqual({ name: 'ip_allowlist', context: { cidrs: ['10.0.0.0/8'], note: 'a]b{' } });
    expect(r.expiresAt).toBe(Date.parse('2026-12-31T00:00:00Z'));
    expect(r.subject).toEqual({ type: 'user', id: 'ann' });
    expect(formatRelationshipWithAttributes(r)).toBe(s);
    // The identity leaves the attributes out: a touch of the plain form replaces this one.
    expect(relationshipKey(r)).toBe('document:d1#viewer@user:ann');
    expect(formatRelationship(r)).toBe('document:d1#viewer@user:ann');
  });

  it('reads a condition without parameters and an expiry alone', () => {
    expect(parseRelationship('document:d1#viewer@group:g#member[is_weekday]').condition).toEqual({
      name: 'is_weekday',
    });
    const r = parseRelationship('document:d1#viewer@user:*[expiration:2027-01-01T01:00:00+01:00]');
    expect(r.condition).toBeUndefined();
    expect(r.expiresAt).toBe(Date.parse('2027-01-01T00:00:00Z'));
    expect(formatRelationshipWithAttributes(r)).toBe(
      'document:d1#viewer@user:*[expiration:2027-01-01T00:00:00.000Z]',
    );
  });

  it.each([
    ['document:d1#viewer@user:ann[', "unclosed '['"],
    ['document:d1#viewer@user:ann[Bad]', 'condition name'],
    ['document:d1#viewer@user:ann[c:{"a":1]', 'unclosed JSON object'],
    ['document:d1#viewer@user:ann[c:[1]]', 'expects a JSON object'],
    ['document:d1#viewer@user:ann[expiration:tomorrow]', 'RFC 3339'],
    ['document:d1#viewer@user:ann[expiration:2026-12-31]', 'RFC 3339'],
    ['document:d1#viewer@user:ann[a][b]', 'more than one condition'],
    ['document:d1#viewer@user:ann[a]x', "expected '['"],
  ])('refuses %s', (input, message) => {
    expect(() => parseRelationship(input)).toThrow(InvalidArgumentError);
    expect(() => parseRelationship(input)).toThrow(message);
  });

  it('refuses attributes on a check', () => {
    expect(() => parseCheckTuple('document:d1#view@user:ann[c]')).toThrow('a check names no condition');
  });
});
