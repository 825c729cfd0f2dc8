// CASL: one Ability per user, built once from that user's rules and cached (the way CASL apps
// use it); the harness hands each user's transitive group set to the rule builder, since CASL
// has no notion of nested groups.
import type { Question } from '../../harness/types.js';
import { importPeer } from '../install.js';
import { groupSetCache, type VisibilityFacts } from '../visibility-facts.js';
import type { InProcessChecker } from './checker.js';

interface CaslAbility {
  can(action: string, subject: unknown): boolean;
}
interface CaslModule {
  createMongoAbility(rules: readonly unknown[]): CaslAbility;
  subject(type: string, object: Record<string, unknown>): unknown;
}

export async function createCaslChecker(
  dir: string,
  version: string,
  facts: VisibilityFacts,
): Promise<InProcessChecker> {
  const casl = await importPeer<CaslModule>(dir, 'dist/esm/index.mjs');
  const groupsOf = groupSetCache(facts);
  const documents = new Map<string, unknown>();
  for (const [id, doc] of facts.documents) {
    documents.set(
      id,
      casl.subject('Document', { id, owner: doc.owner ?? '', everyone: doc.everyone, groups: doc.groups }),
    );
  }
  const abilities = new Map<string, CaslAbility>();
  function abilityOf(user: string): CaslAbility {
    let ability = abilities.get(user);
    if (ability === undefined) {
      const rules: unknown[] = facts.admins.has(user)
        ? [{ action: 'view', subject: 'Document' }]
        : [
            { action: 'view', subject: 'Document', conditions: { everyone: true } },
            { action: 'view', subject: 'Document', conditions: { owner: user } },
            { action: 'view', subject: 'Document', conditions: { groups: { $in: groupsOf(user) } } },
          ];
      ability = casl.createMongoAbility(rules);
      abilities.set(user, ability);
    }
    return ability;
  }
  return {
    system: 'CASL',
    version,
    note: 'rules cached per user; caller supplies the transitive group set',
    check: (q: Question) => {
      const doc = documents.get(q.resourceId);
      return doc !== undefined && abilityOf(q.subjectId).can('view', doc);
    },
  };
}
