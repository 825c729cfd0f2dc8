// The service passes context, contextual relationships and its clock to the engine for checks,
// batches, lookups and explain, validates contextual relationships like a write, and answers
// conditional results as such.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { GatehouseError } from '../../server/src/errors.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compilePolicySet } from '../../server/src/policy/index.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { yaml } from '../policy/compile-helpers.js';
import { ctx } from './fixture.js';

const SCHEMA = yaml`
  kind: schema
  conditions:
    ip_allowlist:
      parameters:
        cidr: string
        ip: ipaddress
      expression: ip.in_cidr(cidr)
  types:
    user: {}
    doc:
      relations:
        viewer: user or user with ip_allowlist
      permissions:
        view: viewer
`;

let service: GatehouseService;
beforeEach(async () => {
  const set = compilePolicySet([{ path: 'schema.yaml', content: SCHEMA }]);
  service = await GatehouseService.create({
    schema: set.schema,
    store: MemoryStore.withRelationships([parseRelationship('doc:1#viewer@user:bob')]),
    limits: DEFAULT_LIMITS,
  });
});
afterEach(() => service.close());

const office = [parseRelationship('doc:2#viewer@user:ann[ip_allowlist:{"cidr":"10.0.0.0/8"}]')];
const ann = { type: 'user', id: 'ann' };

describe('checks with context and contextual relationships', () => {
  it('answer allowed, denied or conditional with the missing parameters', async () => {
    const base = {
      resource: { type: 'doc', id: '2' },
      permission: 'view',
      subject: ann,
      contextualRelationships: office,
    };
    const conditional = await service.check(base, ctx());
    expect(conditional).toMatchObject({
      allowed: false,
      permissionship: 'conditional',
      missingContext: ['ip'],
    });
    const inside = await service.check({ ...base, context: { ip: '10.1.1.1' } }, ctx());
    expect(inside).toMatchObject({ allowed: true, permissionship: 'allowed' });
    const outside = await service.check({ ...base, context: { ip: '8.8.8.8' } }, ctx());
    expect(outside).toMatchObject({ allowed: false, permissionship: 'denied' });
    const without = await service.check({ resource: base.resource, permission: 'view', subject: ann }, ctx());
    expect(without.permissionship).toBe('denied');
  });

  it('batch items carry their own context', async () => {
    const item = {
      resource: { type: 'doc', id: '2' },
      permission: 'view',
      subject: ann,
      contextualRelationships: office,
    };
    const r = await service.checkBatch(
      { items: [item, { ...item, context: { ip: '10.0.0.1' } }, { ...item, context: { ip: '1.1.1.1' } }] },
      ctx(),
    );
    expect(r.results.map((x) => x.permissionship)).toEqual(['conditional', 'allowed', 'denied']);
    expect(r.results[0]!.missingContext).toEqual(['ip']);
  });

  it('lookups and explain report the conditional answers', async () => {
    const lr = await service.lookupResources(
      { resourceType: 'doc', permission: 'view', subject: ann, contextualRelationships: office },
      ctx(),
    );
    expect(lr.resourceIds).toEqual([]);
    expect(lr.conditional).toEqual([{ id: '2', missingContext: ['ip'] }]);
    const ls = await service.lookupSubjects(
      {
        resource: { type: 'doc', id: '2' },
        permission: 'view',
        subjectType: 'user',
        contextualRelationships: office,
        context: { ip: '10.2.2.2' },
      },
      ctx(),
    );
    expect(ls.subjectIds).toEqual(['ann']);
    const e = await service.explain(
      {
        resource: { type: 'doc', id: '2' },
        permission: 'view',
        subject: ann,
        contextualRelationships: office,
      },
      ctx(),
    );
    expect(e.permissionship).toBe('conditional');
    expect(JSON.stringify(e.root)).toContain('condition ip_allowlist: missing ip');
  });

  it('refuses a contextual relationship a write would refuse, naming it', async () => {
    const err = await service
      .check(
        {
          resource: { type: 'doc', id: '2' },
          permission: 'view',
          subject: ann,
          contextualRelationships: [parseRelationship('doc:2#viewer@user:ann[nope]')],
        },
        ctx(),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatehouseError);
    expect((err as GatehouseError).code).toBe('INVALID_ARGUMENT');
    expect((err as GatehouseError).field).toBe('contextualRelationships[0]');
    expect((err as GatehouseError).message).toMatch(/does not declare/);
  });

  it('refuses a context that is not an object, and a value of the wrong type', async () => {
    const params = {
      resource: { type: 'doc', id: '2' },
      permission: 'view',
      subject: ann,
      contextualRelationships: office,
    };
    const notObject = await service
      .check({ ...params, context: [1] as unknown as Record<string, unknown> }, ctx())
      .catch((e: unknown) => e);
    expect((notObject as GatehouseError).field).toBe('context');
    const wrongType = await service.check({ ...params, context: { ip: 12 } }, ctx()).catch((e: unknown) => e);
    expect((wrongType as GatehouseError).code).toBe('INVALID_ARGUMENT');
    expect((wrongType as GatehouseError).message).toMatch(
      /parameter 'ip' of condition 'ip_allowlist' is ipaddress/,
    );
  });
});
