import { describe, expect, it } from 'vitest';
import type { LookupResourcesResult } from '../../service/requests.js';
import { gatehouseProto } from '../grpc/proto.js';
import { encodeLookupResources } from './encode.js';
import { lookupResourcesJson, lookupResourcesProto } from './lookup-page-cache.js';

const type = gatehouseProto().lookupType('gatehouse.v1.LookupResourcesResponse');
const page = (over: Partial<LookupResourcesResult> = {}): LookupResourcesResult => ({
  resourceIds: ['d1', 'd2', 'dé'],
  nextCursor: 'cjE6ZDI',
  token: 't1',
  ...over,
});
const fresh = (r: LookupResourcesResult): Uint8Array => type.encode(encodeLookupResources(r)).finish();

describe('lookup page encodings', () => {
  it('are what encoding the result gives, with and without a cursor', () => {
    for (const r of [page(), page({ nextCursor: undefined })]) {
      expect(lookupResourcesJson(r)).toBe(JSON.stringify(encodeLookupResources(r)));
      expect(Buffer.from(lookupResourcesProto(type, r))).toEqual(Buffer.from(fresh(r)));
      expect(type.toObject(type.decode(lookupResourcesProto(type, r)))).toMatchObject({
        resourceObjectIds: r.resourceIds,
      });
    }
  });

  it('are made once per page and reused while the cursor and token are the same', () => {
    const r = page();
    const bytes = lookupResourcesProto(type, r);
    const text = lookupResourcesJson(r);
    // The same id array with the same cursor and token: the kept encoding.
    expect(lookupResourcesProto(type, { ...r })).toBe(bytes);
    expect(lookupResourcesJson({ ...r })).toBe(text);
    // Another token (or cursor) on the same ids: encoded again, and right.
    const later = { ...r, token: 't2' };
    expect(lookupResourcesProto(type, later)).not.toBe(bytes);
    expect(type.decode(lookupResourcesProto(type, later))).toMatchObject({ lookedUpAt: { token: 't2' } });
    expect(JSON.parse(lookupResourcesJson(later))).toEqual(encodeLookupResources(later));
    const last = { ...later, nextCursor: undefined };
    expect(JSON.parse(lookupResourcesJson(last))).toEqual(encodeLookupResources(last));
    expect(Buffer.from(lookupResourcesProto(type, last))).toEqual(Buffer.from(fresh(last)));
  });

  it('encode conditional results each time, never from a kept page', () => {
    const ids = ['d1'];
    const plain = lookupResourcesJson(page({ resourceIds: ids }));
    const conditional = page({ resourceIds: ids, conditional: [{ id: 'd3', missingContext: ['ip'] }] });
    const text = lookupResourcesJson(conditional);
    expect(text).not.toBe(plain);
    expect(JSON.parse(text).conditionalResources).toEqual([{ objectId: 'd3', missingContext: ['ip'] }]);
    const decoded = type.decode(lookupResourcesProto(type, conditional)) as unknown as Record<
      string,
      unknown
    >;
    expect(decoded.conditionalResources).toHaveLength(1);
  });
});
