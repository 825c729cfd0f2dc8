// The codecs the gRPC measurements compare must agree with the server's protobufjs codecs byte
// for byte and field for field, or the comparison would time different work.
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatehouseProto } from '../../server/src/transport/grpc/proto.js';
import * as hand from './hand-codec.js';
import { loadStaticCodecs, type StaticType } from './static-codecs.js';

const root = gatehouseProto();
const CheckRequest = root.lookupType('gatehouse.v1.CheckRequest');
const CheckResponse = root.lookupType('gatehouse.v1.CheckResponse');
const CheckBatchRequest = root.lookupType('gatehouse.v1.CheckBatchRequest');
const CheckBatchResponse = root.lookupType('gatehouse.v1.CheckBatchResponse');

/**
 * A decoded message as plain data. protobufjs instances carry defaults on their prototype, and a
 * pbjs static constructor also sets every repeated field to its own empty array where the
 * reflection one leaves the prototype's: an empty repeated field is the same message either way.
 */
const plain = (m: unknown): unknown =>
  JSON.parse(
    JSON.stringify(m, (_key, value) => (Array.isArray(value) && value.length === 0 ? undefined : value)),
  );

const objectRef = fc.record({ objectType: fc.string(), objectId: fc.string() }, { requiredKeys: [] });
const consistency = fc.oneof(
  fc.constant(undefined),
  fc.record({ minimizeLatency: fc.constant(true) }),
  fc.record({ fullyConsistent: fc.constant(true) }),
  fc.record({ atLeastAsFresh: fc.record({ token: fc.string({ minLength: 1 }) }) }),
);
const subject = fc.record(
  { object: objectRef, optionalRelation: fc.string({ minLength: 1 }) },
  { requiredKeys: ['object'] },
);
const item = fc.record(
  { resource: objectRef, permission: fc.string({ minLength: 1 }), subject },
  { requiredKeys: [] },
);
const checkRequest = fc
  .tuple(consistency, item)
  .map(([c, i]) => (c === undefined ? { ...i } : { consistency: c, ...i }));

describe('hand-written codec', () => {
  it('decodes any CheckRequest as protobufjs does, unicode included', () => {
    fc.assert(
      fc.property(checkRequest, (message) => {
        const bytes = Buffer.from(CheckRequest.encode(message).finish());
        expect(hand.decodeCheckRequest(bytes)).toEqual(plain(CheckRequest.decode(bytes)));
      }),
    );
  });

  it('decodes any CheckBatchRequest as protobufjs does', () => {
    fc.assert(
      fc.property(consistency, fc.array(item, { maxLength: 20 }), (c, items) => {
        const bytes = Buffer.from(CheckBatchRequest.encode({ consistency: c, items }).finish());
        const expected = plain(CheckBatchRequest.decode(bytes)) as Record<string, unknown>;
        expect(hand.decodeCheckBatchRequest(bytes)).toEqual({ items: [], ...expected });
      }),
    );
  });

  it('skips fields it does not know, of every wire type', () => {
    const w = protobuf.Writer.create();
    w.uint32((15 << 3) | 0).uint64(2 ** 40);
    w.uint32((16 << 3) | 1).fixed64(7);
    w.uint32((17 << 3) | 5).fixed32(7);
    w.uint32((18 << 3) | 2).bytes(Buffer.from('ignored'));
    const known = CheckRequest.encode({
      permission: 'view',
      resource: { objectType: 'doc', objectId: 'd1' },
    });
    const bytes = Buffer.concat([Buffer.from(w.finish()), Buffer.from(known.finish())]);
    expect(hand.decodeCheckRequest(bytes)).toEqual({
      permission: 'view',
      resource: { objectType: 'doc', objectId: 'd1' },
    });
  });

  it('rejects truncated messages instead of reading past the end', () => {
    const bytes = Buffer.from(
      CheckRequest.encode({ permission: 'view', resource: { objectType: 'doc', objectId: 'd1' } }).finish(),
    );
    let rejected = 0;
    for (let cut = 1; cut < bytes.length; cut++) {
      const prefix = bytes.subarray(0, cut);
      let threw = false;
      try {
        hand.decodeCheckRequest(prefix);
      } catch (err) {
        threw = true;
        rejected++;
        expect((err as Error).message).toMatch(/^malformed protobuf/);
      }
      // A cut that falls between two fields is a valid shorter message; every other cut must throw.
      if (!threw) expect(plain(CheckRequest.decode(prefix))).toEqual(hand.decodeCheckRequest(prefix));
    }
    expect(rejected).toBeGreaterThan(bytes.length / 2);
  });

  it('rejects strings that are not UTF-8', () => {
    const bytes = Buffer.from([26, 2, 0xc3, 0x28]);
    expect(() => hand.decodeCheckRequest(bytes)).toThrow(TypeError);
  });

  it('encodes CheckResponse and CheckBatchResponse to the same bytes as protobufjs', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2), fc.string({ maxLength: 60 }), (p, token) => {
        const message = { permissionship: p, checkedAt: { token } };
        expect(hand.encodeCheckResponse(message)).toEqual(
          Buffer.from(CheckResponse.encode(message).finish()),
        );
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(1, 2), { maxLength: 50 }),
        fc.string({ maxLength: 60 }),
        (ps, token) => {
          const message = { results: ps.map((permissionship) => ({ permissionship })), checkedAt: { token } };
          expect(hand.encodeCheckBatchResponse(message)).toEqual(
            Buffer.from(CheckBatchResponse.encode(message).finish()),
          );
        },
      ),
    );
  });
});

describe('pbjs static codecs', () => {
  let S: Record<string, StaticType>;
  beforeAll(async () => {
    S = await loadStaticCodecs();
  }, 180_000);

  it('encode and decode the Check messages exactly as the reflection codecs do', () => {
    fc.assert(
      fc.property(checkRequest, (message) => {
        const bytes = Buffer.from(CheckRequest.encode(message).finish());
        expect(Buffer.from(S.CheckRequest!.encode(message).finish())).toEqual(bytes);
        expect(plain(S.CheckRequest!.decode(bytes))).toEqual(plain(CheckRequest.decode(bytes)));
      }),
      { numRuns: 50 },
    );
    const response = { permissionship: 2, checkedAt: { token: 'GH1.1.abcd' } };
    expect(Buffer.from(S.CheckResponse!.encode(response).finish())).toEqual(
      Buffer.from(CheckResponse.encode(response).finish()),
    );
  });
});
