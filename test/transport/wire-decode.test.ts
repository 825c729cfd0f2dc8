// The wire decoder builds field names only when a value is wrong: these pin the names it
// reports, on the first call and on the retry a batch item takes after failing.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../server/src/errors.js';
import { decodeCheck, decodeCheckBatch, decodeRelationship } from '../../server/src/transport/wire/decode.js';

const ref = (type: unknown, id: unknown) => ({ objectType: type, objectId: id });
const item = (over: Record<string, unknown> = {}) => ({
  resource: ref('document', 'd1'),
  permission: 'view',
  subject: { object: ref('user', 'u1'), optionalRelation: '' },
  ...over,
});

function failure(run: () => unknown): { field?: string; message: string } {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const e = err as InvalidArgumentError;
    return { field: e.field, message: e.message };
  }
  throw new Error('expected the decoder to refuse the input');
}

describe('wire decode', () => {
  it('decodes valid batch items to the same refs, with the relation only when set', () => {
    const params = decodeCheckBatch({
      items: [item(), item({ subject: { object: ref('group', 'g1'), optionalRelation: 'member' } })],
    });
    expect(params.items).toEqual([
      { resource: { type: 'document', id: 'd1' }, permission: 'view', subject: { type: 'user', id: 'u1' } },
      {
        resource: { type: 'document', id: 'd1' },
        permission: 'view',
        subject: { type: 'group', id: 'g1', relation: 'member' },
      },
    ]);
    // Unset fields (absent from JSON, or null) read as empty strings, as protobufjs gives them.
    expect(decodeCheckBatch({ items: [{ resource: null }] }).items[0]).toEqual({
      resource: { type: '', id: '' },
      permission: '',
      subject: { type: '', id: '' },
    });
  });

  it('names the failing field inside the failing batch item', () => {
    const items = [item(), item(), item({ resource: ref('document', 42) })];
    expect(failure(() => decodeCheckBatch({ items }))).toEqual({
      field: 'items[2].resource.objectId',
      message: 'items[2].resource.objectId must be a string, got a number',
    });
    expect(failure(() => decodeCheckBatch({ items: [item({ permission: true })] })).field).toBe(
      'items[0].permission',
    );
    expect(failure(() => decodeCheckBatch({ items: [item(), 'x'] })).field).toBe('items[1]');
    expect(failure(() => decodeCheckBatch({ items: [item({ subject: [] })] })).field).toBe(
      'items[0].subject',
    );
    expect(
      failure(() =>
        decodeCheckBatch({ items: [item({ subject: { object: ref(1, 'u'), optionalRelation: '' } })] }),
      ).field,
    ).toBe('items[0].subject.objectType');
    expect(
      failure(() =>
        decodeCheckBatch({ items: [item({ subject: { object: ref('user', 'u'), optionalRelation: 3 } })] }),
      ).field,
    ).toBe('items[0].subject.optionalRelation');
  });

  it('names fields of single requests and relationships without a prefix', () => {
    expect(failure(() => decodeCheck({ resource: ref(null, 5) })).field).toBe('resource.objectId');
    expect(failure(() => decodeCheck({ resource: 'document:d1' })).field).toBe('resource');
    expect(
      failure(() =>
        decodeRelationship(
          { resource: ref('document', 'd1'), relation: 'viewer', subject: { object: 7 } },
          'x',
        ),
      ).field,
    ).toBe('x.subject');
  });
});
