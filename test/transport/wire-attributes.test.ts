// A relationship's condition (a Struct of parameter values) and expiry (a Timestamp) on the wire:
// proto3 JSON over HTTP (a plain object, an RFC 3339 string) and protobuf bytes over gRPC carry
// the same values, and a malformed one is INVALID_ARGUMENT naming its field.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../server/src/errors.js';
import { parseRelationship, type Relationship } from '../../server/src/model/relationship.js';
import { gatehouseProto } from '../../server/src/transport/grpc/proto.js';
import { createCheckBatchBodies, createCheckBodies } from '../../server/src/transport/http/check-body.js';
import { rejectUnknownFields } from '../../server/src/transport/http/known-fields.js';
import {
  decodeCheck,
  decodeCheckBatch,
  decodeLookupResources,
  decodeRelationship,
  decodeWrite,
} from '../../server/src/transport/wire/decode.js';
import {
  encodeCheck,
  encodeCheckBatch,
  encodeLookupResources,
  encodeRelationship,
  GRPC_STYLE,
  JSON_STYLE,
} from '../../server/src/transport/wire/encode.js';
import { JSON_DIALECT, PROTOBUF_DIALECT } from '../../server/src/transport/wire/well-known.js';

const CONDITIONED = parseRelationship(
  'doc:1#viewer@user:a[ip_allowlist:{"cidrs":["10.0.0.0/8"],"limit":3.5,"strict":true,"nested":{"n":null}}][expiration:2026-12-31T23:59:59.123Z]',
);

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

/** Through protobuf bytes as the gRPC transport carries them (a Read response, then a Write request). */
function viaProtobuf(r: Relationship): Relationship {
  const root = gatehouseProto();
  const response = root.lookupType('gatehouse.v1.ReadRelationshipsResponse');
  const bytes = response.encode({ relationships: [encodeRelationship(r, GRPC_STYLE)] }).finish();
  const decoded = response.decode(bytes) as unknown as { relationships: unknown[] };
  return decodeRelationship(decoded.relationships[0], 'relationship', PROTOBUF_DIALECT);
}

describe('relationship condition and expiry on the wire', () => {
  it('proto3 JSON carries the context as a plain object and the expiry as an RFC 3339 string', () => {
    const wire = encodeRelationship(CONDITIONED, JSON_STYLE);
    expect(wire.optionalCondition).toEqual({
      name: 'ip_allowlist',
      context: { cidrs: ['10.0.0.0/8'], limit: 3.5, strict: true, nested: { n: null } },
    });
    expect(wire.optionalExpiresAt).toBe('2026-12-31T23:59:59.123Z');
    // Through JSON text and back, as HTTP carries it.
    const back = decodeRelationship(JSON.parse(JSON.stringify(wire)), 'relationship', JSON_DIALECT);
    expect(back).toEqual(CONDITIONED);
  });

  it('protobuf bytes carry the same condition and expiry, to the millisecond', () => {
    expect(viaProtobuf(CONDITIONED)).toEqual(CONDITIONED);
    const before1970 = parseRelationship('doc:1#viewer@user:a[expiration:1969-07-20T20:17:40.5Z]');
    expect(viaProtobuf(before1970)).toEqual(before1970);
  });

  it('a relationship without them decodes without the properties at all', () => {
    const plain = parseRelationship('doc:1#viewer@user:a');
    expect(Object.keys(viaProtobuf(plain))).toEqual(['resource', 'relation', 'subject']);
    expect(Object.keys(decodeRelationship(encodeRelationship(plain, JSON_STYLE), 'r'))).toEqual([
      'resource',
      'relation',
      'subject',
    ]);
  });

  it('keeps a parameter named __proto__ as a parameter, over both dialects', () => {
    const body = JSON.parse(
      '{"resource":{"objectType":"doc","objectId":"1"},"relation":"viewer","subject":{"object":{"objectType":"user","objectId":"a"}},"optionalCondition":{"name":"c","context":{"__proto__":{"x":1}}}}',
    );
    const fromJson = decodeRelationship(body, 'r');
    expect(Object.getPrototypeOf(fromJson.condition?.context)).toBe(Object.prototype);
    const viaGrpc = viaProtobuf(fromJson);
    expect(Object.hasOwn(viaGrpc.condition?.context ?? {}, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(viaGrpc.condition?.context, '__proto__')?.value).toEqual({ x: 1 });
  });

  it('refuses malformed conditions and expiries, naming the field', () => {
    const base = { resource: { objectType: 'doc', objectId: '1' }, relation: 'viewer' };
    const write = (relationship: Record<string, unknown>) => () =>
      decodeWrite({
        updates: [{ operation: 'OPERATION_TOUCH', relationship: { ...base, ...relationship } }],
      });
    expect(failure(write({ optionalCondition: { context: {} } })).field).toBe(
      'updates[0].relationship.optionalCondition.name',
    );
    expect(failure(write({ optionalCondition: { name: 'c', context: [1] } })).field).toBe(
      'updates[0].relationship.optionalCondition.context',
    );
    expect(failure(write({ optionalExpiresAt: 1767225600 })).field).toBe(
      'updates[0].relationship.optionalExpiresAt',
    );
    expect(failure(write({ optionalExpiresAt: '2026-12-31' })).message).toContain('RFC 3339');
    const grpcNanos = { seconds: 1, nanos: -1 };
    expect(
      failure(() => decodeRelationship({ ...base, optionalExpiresAt: grpcNanos }, 'r', PROTOBUF_DIALECT))
        .field,
    ).toBe('r.optionalExpiresAt.nanos');
    const tooLate = { seconds: 253_402_300_800, nanos: 0 };
    expect(
      failure(() => decodeRelationship({ ...base, optionalExpiresAt: tooLate }, 'r', PROTOBUF_DIALECT)).field,
    ).toBe('r.optionalExpiresAt');
  });

  it('an HTTP body may name any context parameter, but no unknown relationship field', () => {
    const write = gatehouseProto().lookupType('gatehouse.v1.WriteRelationshipsRequest');
    const body = {
      updates: [{ operation: 'OPERATION_TOUCH', relationship: encodeRelationship(CONDITIONED, JSON_STYLE) }],
    };
    expect(() => rejectUnknownFields(body, write)).not.toThrow();
    const check = gatehouseProto().lookupType('gatehouse.v1.CheckRequest');
    expect(() =>
      rejectUnknownFields({ context: { fields: 1, anything: { deep: [1] } } }, check),
    ).not.toThrow();
    expect(() =>
      rejectUnknownFields({ updates: [{ relationship: { optionalCondtion: { name: 'c' } } }] }, write),
    ).toThrow(/did you mean 'optionalCondition'/);
  });
});

/** A message through protobuf bytes, as the gRPC transport carries it. */
function roundTrip(typeName: string, message: Record<string, unknown>): Record<string, unknown> {
  const type = gatehouseProto().lookupType(`gatehouse.v1.${typeName}`);
  return type.decode(type.encode(message).finish()) as unknown as Record<string, unknown>;
}

describe('request context and conditional answers on the wire', () => {
  const check = {
    resource: { objectType: 'doc', objectId: '1' },
    permission: 'view',
    subject: { object: { objectType: 'user', objectId: 'a' } },
  };
  const context = { ip: '10.0.0.7', attempts: 2, tags: ['a'], deep: { on: false } };

  it('decodes the same context and contextual relationships from JSON and from protobuf bytes', () => {
    const extra = encodeRelationship(CONDITIONED, JSON_STYLE);
    const fromJson = decodeCheck({ ...check, context, contextualRelationships: [extra] }, JSON_DIALECT);
    const grpcMessage = {
      ...check,
      context: PROTOBUF_DIALECT.writeStruct(context),
      contextualRelationships: [encodeRelationship(CONDITIONED, GRPC_STYLE)],
    };
    const fromGrpc = decodeCheck(roundTrip('CheckRequest', grpcMessage), PROTOBUF_DIALECT);
    expect(fromJson.context).toEqual(context);
    expect(fromJson.contextualRelationships).toEqual([CONDITIONED]);
    expect(fromGrpc).toEqual(fromJson);
    // A check with neither has no such properties, from either transport.
    expect(Object.keys(decodeCheck(roundTrip('CheckRequest', check), PROTOBUF_DIALECT))).toEqual([
      'consistency',
      'resource',
      'permission',
      'subject',
    ]);
    const batch = decodeCheckBatch(
      roundTrip('CheckBatchRequest', {
        items: [check, { ...check, context: PROTOBUF_DIALECT.writeStruct(context) }],
      }),
      PROTOBUF_DIALECT,
    );
    expect(batch.items[0]?.context).toBeUndefined();
    expect(batch.items[1]?.context).toEqual(context);
    const lookup = decodeLookupResources(
      { resourceObjectType: 'doc', permission: 'view', context },
      JSON_DIALECT,
    );
    expect(lookup.context).toEqual(context);
  });

  it('names the field of a bad context or contextual relationship, inside batch items too', () => {
    expect(failure(() => decodeCheck({ ...check, context: 'ip=1' })).field).toBe('context');
    expect(
      failure(() =>
        decodeCheck({ ...check, contextualRelationships: [{ relation: 'viewer', optionalExpiresAt: 5 }] }),
      ).field,
    ).toBe('contextualRelationships[0].optionalExpiresAt');
    expect(failure(() => decodeCheckBatch({ items: [check, { ...check, context: [1] }] })).field).toBe(
      'items[1].context',
    );
  });

  it('a conditional answer carries its missing context over protobuf and JSON, in checks and batches', () => {
    const conditional = {
      allowed: false,
      permissionship: 'conditional',
      missingContext: ['ip', 'now'],
      token: 't1',
    } as const;
    expect(roundTrip('CheckResponse', encodeCheck(conditional, GRPC_STYLE))).toMatchObject({
      permissionship: 3,
      missingContext: ['ip', 'now'],
    });
    expect(JSON.parse(createCheckBodies()(conditional))).toEqual({
      permissionship: 'PERMISSIONSHIP_CONDITIONAL_PERMISSION',
      missingContext: ['ip', 'now'],
      checkedAt: { token: 't1' },
    });
    const batch = {
      results: [
        { allowed: true, permissionship: 'allowed' },
        { allowed: false, permissionship: 'conditional', missingContext: ['ip'] },
        { allowed: false, permissionship: 'denied' },
      ],
      token: 't2',
    } as const;
    const grpc = roundTrip('CheckBatchResponse', encodeCheckBatch(batch, GRPC_STYLE)) as {
      results: { permissionship: number; missingContext: string[] }[];
    };
    expect(grpc.results.map((r) => [r.permissionship, r.missingContext])).toEqual([
      [2, []],
      [3, ['ip']],
      [1, []],
    ]);
    const json = JSON.parse(createCheckBatchBodies()(batch));
    expect(json).toEqual(JSON.parse(JSON.stringify(encodeCheckBatch(batch, JSON_STYLE))));
    expect(json.results[1]).toEqual({
      permissionship: 'PERMISSIONSHIP_CONDITIONAL_PERMISSION',
      missingContext: ['ip'],
    });
  });

  it('lookups list conditional results apart from granted ones', () => {
    const page = {
      resourceIds: ['d1'],
      conditional: [{ id: 'd2', missingContext: ['ip'] }],
      nextCursor: undefined,
      token: 't3',
    };
    expect(encodeLookupResources(page)).toMatchObject({
      resourceObjectIds: ['d1'],
      conditionalResources: [{ objectId: 'd2', missingContext: ['ip'] }],
    });
    expect(roundTrip('LookupResourcesResponse', encodeLookupResources(page))).toMatchObject({
      conditionalResources: [{ objectId: 'd2', missingContext: ['ip'] }],
    });
    expect(encodeLookupResources({ ...page, conditional: undefined })).not.toHaveProperty(
      'conditionalResources',
    );
  });
});
