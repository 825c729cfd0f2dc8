// AuthZEN request parsing: defaults of evaluations, the shape errors it names, ids escaped one-to-one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LimitExceededError } from '../../errors.js';
import { decodePageToken, encodePageToken, queryDigest } from './authzen-page-token.js';
import {
  checkParams,
  conditionContext,
  fromObjectId,
  parseActionSearch,
  parseEvaluation,
  parseEvaluations,
  toObjectId,
} from './authzen-request.js';

const OBJECT_ID = /^[A-Za-z0-9_\-=+|/.]{1,1024}$/;

describe('AuthZEN ids', () => {
  it('leaves ids of safe characters alone and escapes the rest, = included', () => {
    expect(toObjectId('todo-1')).toBe('todo-1');
    expect(toObjectId('rick@the-citadel.com')).toBe('rick=40the-citadel.com');
    expect(toObjectId('a=b')).toBe('a=3Db');
    expect(toObjectId('é')).toBe('=C3=A9');
  });

  it('maps every string to a valid object id, one-to-one and reversibly', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (a, b) => {
          const ea = toObjectId(a);
          expect(ea).toMatch(OBJECT_ID);
          expect(fromObjectId(ea)).toBe(a);
          if (a !== b) expect(toObjectId(b)).not.toBe(ea);
        },
      ),
    );
  });
});

describe('parseEvaluations', () => {
  const subject = { type: 'user', id: 'alice' };
  it('fills each item from the top-level defaults, an item key replacing the default whole', () => {
    const v = parseEvaluations(
      {
        subject,
        action: { name: 'read' },
        context: { time: 't1' },
        evaluations: [
          { resource: { type: 'doc', id: '1' } },
          { resource: { type: 'doc', id: '2' }, action: { name: 'edit' }, context: { ip: 'x' } },
        ],
      },
      10,
    );
    expect(v.semantic).toBe('execute_all');
    expect(v.items.map((i) => checkParams(i, false))).toEqual([
      { resource: { type: 'doc', id: '1' }, permission: 'read', subject },
      { resource: { type: 'doc', id: '2' }, permission: 'edit', subject },
    ]);
    expect(v.items.map((i) => i.context)).toEqual([{ time: 't1' }, { ip: 'x' }]);
  });

  it('names the item and the key a default cannot supply', () => {
    expect(() =>
      parseEvaluations(
        {
          subject,
          evaluations: [
            { action: { name: 'r' }, resource: { type: 'd', id: '1' } },
            { resource: { type: 'd', id: '2' } },
          ],
        },
        10,
      ),
    ).toThrow(/evaluations\[1\]\.action is required/);
  });

  it('refuses more items than the limit', () => {
    const evaluations = Array.from({ length: 3 }, () => ({}));
    expect(() => parseEvaluations({ evaluations }, 2)).toThrow(LimitExceededError);
  });
});

describe('page tokens', () => {
  it('round-trip their position for the same query and refuse another query', () => {
    const digest = queryDigest('resource', { subject: { id: 'a', type: 'user' }, limit: 2 });
    // The same query with its members in another order is the same query.
    expect(queryDigest('resource', { limit: 2, subject: { type: 'user', id: 'a' } })).toBe(digest);
    expect(decodePageToken(encodePageToken(digest, { offset: 4 }), digest)).toEqual({ offset: 4 });
    expect(decodePageToken(encodePageToken(digest, { cursor: 'c1' }), digest)).toEqual({ cursor: 'c1' });
    const other = queryDigest('subject', { subject: { id: 'a', type: 'user' }, limit: 2 });
    expect(() => decodePageToken(encodePageToken(digest, { offset: 4 }), other)).toThrow(/different search/);
    expect(() => decodePageToken('garbage!', digest)).toThrow(/not a next_token/);
  });
});

describe('conditionContext', () => {
  it('gives conditions the entities as sent, with no member for what the request left out', () => {
    const e = parseEvaluation({
      subject: { type: 'user', id: 'u' },
      action: { name: 'read' },
      resource: { type: 'todo', id: 't' },
    });
    const context = conditionContext(e);
    expect(context).toEqual({
      subject: { type: 'user', id: 'u' },
      action: { name: 'read' },
      resource: { type: 'todo', id: 't' },
    });
    // No `properties: undefined` left behind: that is not a JSON value, and conditions refuse it.
    expect(Object.keys(context.resource as object)).toEqual(['type', 'id']);
    const search = parseActionSearch({
      subject: { type: 'user', id: 'u' },
      resource: { type: 'todo', id: 't' },
    });
    expect(Object.keys(conditionContext(search))).toEqual(['subject', 'resource']);
  });

  it('lets a context member of the same name win over the entity', () => {
    const e = parseEvaluation({
      subject: { type: 'user', id: 'u' },
      action: { name: 'read' },
      resource: { type: 'todo', id: 't', properties: { ownerID: 'a' } },
      context: { resource: 'mine', ip: '10.0.0.1' },
    });
    expect(conditionContext(e)).toMatchObject({ resource: 'mine', ip: '10.0.0.1' });
  });
});
