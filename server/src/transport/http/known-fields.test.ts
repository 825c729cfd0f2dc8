// Unknown JSON fields are refused with the path and a did-you-mean, at any depth.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../errors.js';
import { gatehouseProto } from '../grpc/proto.js';
import { rejectUnknownFields } from './known-fields.js';

const type = (name: string) => gatehouseProto().lookupType(`gatehouse.v1.${name}`);

const check = {
  resource: { objectType: 'document', objectId: 'd1' },
  permission: 'view',
  subject: { object: { objectType: 'user', objectId: 'u1' } },
};

function problem(body: unknown, message: string): { field?: string; message: string } {
  try {
    rejectUnknownFields(body, type(message));
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  return { message: 'accepted' };
}

describe('rejectUnknownFields', () => {
  it('accepts every field the contract declares', () => {
    expect(problem(check, 'CheckRequest').message).toBe('accepted');
    expect(problem({ ...check, consistency: { fullyConsistent: true } }, 'CheckRequest').message).toBe(
      'accepted',
    );
    expect(problem({ items: [check, check] }, 'CheckBatchRequest').message).toBe('accepted');
  });

  it('names a misspelt top-level field and suggests the declared one', () => {
    const p = problem({ ...check, permision: 'view' }, 'CheckRequest');
    expect(p.field).toBe('permision');
    expect(p.message).toMatch(/unknown field 'permision' \(did you mean 'permission'\?\)/);
  });

  it('finds unknown fields inside nested messages and list items', () => {
    const nested = problem({ ...check, consistency: { fullyConsistant: true } }, 'CheckRequest');
    expect(nested.field).toBe('consistency.fullyConsistant');
    expect(nested.message).toMatch(/did you mean 'fullyConsistent'/);
    const item = problem(
      { items: [check, { ...check, subject: { object: check.resource, relation: 'x' } }] },
      'CheckBatchRequest',
    );
    expect(item.field).toMatch(/^items\[1\]\.subject\./);
  });

  it('refuses keys that name Object.prototype members as unknown, not as a crash', () => {
    for (const text of ['{"toString": 1}', '{"__proto__": {"x": 1}}', '{"constructor": {}}']) {
      const key = Object.keys(JSON.parse(text))[0];
      expect(problem(JSON.parse(text), 'CheckRequest').field).toBe(key);
    }
  });

  it('leaves wrongly shaped values to the decoder', () => {
    expect(problem('not an object', 'CheckRequest').message).toBe('accepted');
    expect(problem({ ...check, resource: 'document:d1' }, 'CheckRequest').message).toBe('accepted');
  });
});
