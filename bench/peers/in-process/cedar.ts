// Cedar (cedar-wasm): three permit policies pre-parsed once; each request carries the entity
// slice it needs — the user with its group ancestry (Cedar's `in` walks it) and the document.
import type { Question } from '../../harness/types.js';
import { importPeer } from '../install.js';
import type { VisibilityFacts } from '../visibility-facts.js';
import type { InProcessChecker } from './checker.js';

type Uid = { type: string; id: string };
interface EntityJson {
  uid: Uid;
  attrs: Record<string, unknown>;
  parents: Uid[];
}
interface CedarModule {
  preparsePolicySet(
    id: string,
    policies: { staticPolicies: string },
  ): { type: 'success' } | { type: 'failure'; errors: unknown[] };
  statefulIsAuthorized(call: {
    principal: Uid;
    action: Uid;
    resource: Uid;
    context: Record<string, unknown>;
    preparsedPolicySetId: string;
    entities: EntityJson[];
  }): { type: 'success'; response: { decision: 'allow' | 'deny' } } | { type: 'failure'; errors: unknown[] };
}

const POLICIES = `
permit(principal, action == Action::"view", resource) when { principal.admin };
permit(principal, action == Action::"view", resource) when { resource.everyone };
permit(principal, action == Action::"view", resource) when { resource.owner == principal };
permit(principal, action == Action::"view", resource) when { principal in resource.viewers };
`;

export async function createCedarChecker(
  dir: string,
  version: string,
  facts: VisibilityFacts,
): Promise<InProcessChecker> {
  const cedar = await importPeer<CedarModule>(dir, 'nodejs/cedar_wasm.js');
  const parsed = cedar.preparsePolicySet('group-visibility', { staticPolicies: POLICIES });
  if (parsed.type !== 'success')
    throw new Error(`cedar rejected the policies: ${JSON.stringify(parsed.errors)}`);

  const group = (id: string): Uid => ({ type: 'Group', id });
  const nobody: Uid = { type: 'User', id: '__nobody' };
  // The entity slices are what an application would assemble per request; build them once so
  // the timing measures Cedar, not our JSON assembly.
  const ancestry = new Map<string, EntityJson[]>();
  function userSlice(user: string): EntityJson[] {
    let slice = ancestry.get(user);
    if (slice === undefined) {
      slice = [
        {
          uid: { type: 'User', id: user },
          attrs: { admin: facts.admins.has(user) },
          parents: (facts.userGroups.get(user) ?? []).map(group),
        },
      ];
      const seen = new Set<string>();
      const stack = [...(facts.userGroups.get(user) ?? [])];
      while (stack.length > 0) {
        const g = stack.pop()!;
        if (seen.has(g)) continue;
        seen.add(g);
        const parents = facts.groupParents.get(g) ?? [];
        slice.push({ uid: group(g), attrs: {}, parents: parents.map(group) });
        stack.push(...parents);
      }
      ancestry.set(user, slice);
    }
    return slice;
  }
  const docs = new Map<string, EntityJson>();
  for (const [id, doc] of facts.documents) {
    docs.set(id, {
      uid: { type: 'Document', id },
      attrs: {
        everyone: doc.everyone,
        owner: { __entity: doc.owner === undefined ? nobody : { type: 'User', id: doc.owner } },
        viewers: doc.groups.map((g) => ({ __entity: group(g) })),
      },
      parents: [],
    });
  }
  const action: Uid = { type: 'Action', id: 'view' };

  return {
    system: 'cedar-wasm',
    version,
    note: 'policies pre-parsed; per-request entities: user + group ancestry + document',
    check: (q: Question) => {
      const doc = docs.get(q.resourceId);
      if (doc === undefined) return false;
      const answer = cedar.statefulIsAuthorized({
        principal: { type: 'User', id: q.subjectId },
        action,
        resource: doc.uid,
        context: {},
        preparsedPolicySetId: 'group-visibility',
        entities: [...userSlice(q.subjectId), doc],
      });
      if (answer.type !== 'success')
        throw new Error(`cedar failed: ${JSON.stringify(answer.errors).slice(0, 300)}`);
      return answer.response.decision === 'allow';
    },
  };
}
