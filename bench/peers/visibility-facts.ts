// The group-visibility workload as plain facts (who is in which group, which group nests in
// which, who may see each document), the form the peers are given. Gatehouse resolves nesting
// itself from relationships; Cerbos, CASL and casbin are handed what each needs by the harness.

export interface DocumentFacts {
  /** Owner user id, if the document is owned. */
  readonly owner?: string | undefined;
  /** Visible to every user. */
  readonly everyone: boolean;
  /** Groups whose (transitive) members may see it. */
  readonly groups: readonly string[];
}

export interface VisibilityFacts {
  readonly users: readonly string[];
  /** Users who see every document. */
  readonly admins: ReadonlySet<string>;
  /** Each user's direct groups. */
  readonly userGroups: ReadonlyMap<string, readonly string[]>;
  /** Groups each group is a direct member of: members of a child group are members of its parents. */
  readonly groupParents: ReadonlyMap<string, readonly string[]>;
  readonly documents: ReadonlyMap<string, DocumentFacts>;
}

/** Every group the user is in, directly or through nesting (cycle-safe), sorted. */
export function transitiveGroups(facts: VisibilityFacts, user: string): string[] {
  const seen = new Set<string>();
  const stack = [...(facts.userGroups.get(user) ?? [])];
  while (stack.length > 0) {
    const g = stack.pop()!;
    if (seen.has(g)) continue;
    seen.add(g);
    for (const parent of facts.groupParents.get(g) ?? []) stack.push(parent);
  }
  return [...seen].sort();
}

/** A memo of transitiveGroups: what a caller of Cerbos or CASL would keep per user. */
export function groupSetCache(facts: VisibilityFacts): (user: string) => readonly string[] {
  const cache = new Map<string, string[]>();
  return (user) => {
    let groups = cache.get(user);
    if (groups === undefined) {
      groups = transitiveGroups(facts, user);
      cache.set(user, groups);
    }
    return groups;
  };
}

/** The reference answer from the facts alone: the correctness gate's tie-breaker. */
export function referenceCheck(facts: VisibilityFacts, user: string, documentId: string): boolean {
  const doc = facts.documents.get(documentId);
  if (doc === undefined) return false;
  if (facts.admins.has(user) || doc.everyone || doc.owner === user) return true;
  if (doc.groups.length === 0) return false;
  const mine = new Set(transitiveGroups(facts, user));
  return doc.groups.some((g) => mine.has(g));
}
