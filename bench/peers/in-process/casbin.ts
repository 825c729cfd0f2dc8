// casbin (RBAC model): users and nested groups are roles, each document is a `reader:<doc>` role
// granted to its viewer groups, owner and the `everyone` role; casbin's role manager walks the
// nesting itself (up to its hierarchy limit of 10 levels).
import type { Question } from '../../harness/types.js';
import { importPeer } from '../install.js';
import type { VisibilityFacts } from '../visibility-facts.js';
import type { InProcessChecker } from './checker.js';

interface CasbinModule {
  newModelFromString(text: string): unknown;
  newEnforcer(model: unknown): Promise<CasbinEnforcer>;
}
interface CasbinEnforcer {
  addPolicy(...rule: string[]): Promise<boolean>;
  addGroupingPolicies(rules: string[][]): Promise<boolean>;
  enforceSync(...request: string[]): boolean;
}

const MODEL = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && (g(r.sub, "role:admin") || g(r.sub, r.obj) || g("role:everyone", r.obj))
`;

export async function createCasbinChecker(
  dir: string,
  version: string,
  facts: VisibilityFacts,
): Promise<InProcessChecker> {
  const casbin = await importPeer<CasbinModule>(dir, 'lib/esm/index.mjs');
  const enforcer = await casbin.newEnforcer(casbin.newModelFromString(MODEL));
  await enforcer.addPolicy('any', 'any', 'view');
  const links: string[][] = [];
  for (const admin of facts.admins) links.push([`user:${admin}`, 'role:admin']);
  for (const [user, groups] of facts.userGroups)
    for (const g of groups) links.push([`user:${user}`, `group:${g}`]);
  for (const [child, parents] of facts.groupParents)
    for (const p of parents) links.push([`group:${child}`, `group:${p}`]);
  for (const [id, doc] of facts.documents) {
    const reader = `reader:${id}`;
    if (doc.everyone) links.push(['role:everyone', reader]);
    if (doc.owner !== undefined) links.push([`user:${doc.owner}`, reader]);
    for (const g of doc.groups) links.push([`group:${g}`, reader]);
  }
  await enforcer.addGroupingPolicies(links);
  return {
    system: 'casbin',
    version,
    note: 'RBAC model; nested groups as role inheritance',
    check: (q: Question) => enforcer.enforceSync(`user:${q.subjectId}`, `reader:${q.resourceId}`, 'view'),
  };
}
