// A small policy set and helpers to stand up a GatehouseService over a MemoryStore for tests.
import { DEFAULT_LIMITS, type Limits } from '../../server/src/config/config.js';
import { compilePolicySet } from '../../server/src/policy/index.js';
import type { PolicySet } from '../../server/src/policy/policy-set.js';
import { SCOPES, type Scope } from '../../server/src/service/auth/scopes.js';
import { TokenAuthorizer } from '../../server/src/service/auth/token-authorizer.js';
import {
  GatehouseService,
  type GatehouseServiceOptions,
} from '../../server/src/service/gatehouse-service.js';
import type { CallContext, CheckParams } from '../../server/src/service/requests.js';
import { MemoryStore } from '../../server/src/store/index.js';

export const SCHEMA_YAML = `kind: schema
types:
  user: {}
  group:
    relations:
      member: user or group#member
  document:
    relations:
      owner: user
      viewer:
        types: user or user:* or group#member
        if_emptied_by_delete: user:*
    permissions:
      view: owner or viewer
      edit: owner
`;

export const DATA_YAML = `kind: relationships
relationships:
  - group:eng#member@user:alice
  - group:staff#member@group:eng#member
  - document:readme#viewer@group:staff#member
  - document:readme#owner@user:bob
  - document:plan#owner@user:bob
  - document:plan#viewer@group:eng#member
`;

export function fixturePolicySet(): PolicySet {
  return compilePolicySet([
    { path: 'schema.yaml', content: SCHEMA_YAML },
    { path: 'data.yaml', content: DATA_YAML },
  ]);
}

export const TOKEN = 'test-token-0123456789';

export interface Fixture {
  readonly service: GatehouseService;
  readonly store: MemoryStore;
}

export async function startService(
  options: {
    limits?: Partial<Limits>;
    token?: string;
    openScopes?: readonly Scope[];
    validator?: GatehouseServiceOptions['validator'];
  } = {},
): Promise<Fixture> {
  const set = fixturePolicySet();
  const store = MemoryStore.withRelationships(set.relationships.map((r) => r.relationship));
  const service = await GatehouseService.create({
    schema: set.schema,
    store,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    validator: options.validator,
    authorizer:
      options.token === undefined
        ? undefined
        : new TokenAuthorizer([{ token: options.token, scopes: SCOPES }], options.openScopes),
  });
  return { service, store };
}

/** A call context with a deadline `ms` from now. */
export function ctx(options: { token?: string; ms?: number } = {}): CallContext {
  return { deadline: Date.now() + (options.ms ?? 30_000), token: options.token };
}

export function checkOf(resource: string, permission: string, subject: string): CheckParams {
  const [rt, rid] = resource.split(':') as [string, string];
  const [st, rest] = subject.split(':') as [string, string];
  const [sid, srel] = rest.split('#') as [string, string | undefined];
  return {
    resource: { type: rt, id: rid },
    permission,
    subject: srel === undefined ? { type: st, id: sid } : { type: st, id: sid, relation: srel },
  };
}
