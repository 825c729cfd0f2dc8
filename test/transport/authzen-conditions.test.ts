// The condition context an AuthZEN evaluation builds, on the real engine and CEL: the request
// context and the entities' properties are the condition's parameters. The memory store does not
// keep conditions on stored relationships yet, so the conditional relationships ride along as
// contextual relationships of the service call the AuthZEN route makes.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compilePolicySet } from '../../server/src/policy/index.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { MemoryStore } from '../../server/src/store/index.js';
import {
  checkParams,
  type JsonObject,
  parseEvaluation,
} from '../../server/src/transport/http/authzen-request.js';
import { yaml } from '../policy/compile-helpers.js';
import { ctx } from '../service/fixture.js';

const SCHEMA = yaml`
  kind: schema
  conditions:
    from_office:
      parameters:
        cidr: string
        ip: ipaddress
      expression: ip.in_cidr(cidr)
    owns_it:
      parameters:
        email: string
        resource: map<any>
      expression: resource.properties.ownerID == email
  types:
    user: {}
    todo:
      relations:
        reader: user with from_office
        editor: user with owns_it
      permissions:
        can_read: reader
        can_update: editor
`;

let service: GatehouseService;
beforeEach(async () => {
  const set = compilePolicySet([{ path: 'schema.yaml', content: SCHEMA }]);
  service = await GatehouseService.create({
    schema: set.schema,
    store: MemoryStore.withRelationships([]),
    limits: DEFAULT_LIMITS,
  });
});
afterEach(() => service.close());

const RELATIONSHIPS = [
  parseRelationship('todo:t1#reader@user:ann[from_office:{"cidr":"10.0.0.0/8"}]'),
  parseRelationship('todo:t1#editor@user:ann[owns_it:{"email":"ann@example.com"}]'),
];

/** The decision the AuthZEN route gives `body`: its check (with the condition context), answered by the service. */
async function evaluate(body: JsonObject): Promise<unknown> {
  const e = parseEvaluation(body);
  const r = await service.check({ ...checkParams(e, true), contextualRelationships: RELATIONSHIPS }, ctx());
  return r.allowed
    ? { decision: true }
    : r.permissionship === 'conditional'
      ? { decision: false, context: { reason: 'conditional', missing_context: r.missingContext } }
      : { decision: false };
}

const ann = { type: 'user', id: 'ann' };
const read = { name: 'can_read' };
const update = { name: 'can_update' };

it('decides with the request context, and names it when it is missing', async () => {
  const todo = { type: 'todo', id: 't1' };
  expect(await evaluate({ subject: ann, action: read, resource: todo, context: { ip: '10.1.2.3' } })).toEqual(
    {
      decision: true,
    },
  );
  expect(await evaluate({ subject: ann, action: read, resource: todo, context: { ip: '8.8.8.8' } })).toEqual({
    decision: false,
  });
  expect(await evaluate({ subject: ann, action: read, resource: todo })).toEqual({
    decision: false,
    context: { reason: 'conditional', missing_context: ['ip'] },
  });
});

it('decides with the resource properties the PEP sends', async () => {
  const owned = (ownerID: string) => ({ type: 'todo', id: 't1', properties: { ownerID } });
  expect(await evaluate({ subject: ann, action: update, resource: owned('ann@example.com') })).toEqual({
    decision: true,
  });
  expect(await evaluate({ subject: ann, action: update, resource: owned('bob@example.com') })).toEqual({
    decision: false,
  });
});
