// Compiles one relation: checks each allowed subject type (the type exists; a subject set
// names a relation or permission of it; no entry twice) and its `if_emptied_by_delete` consequence.
import { GatehouseError } from '../errors.js';
import type { SubjectRef } from '../model/relationship.js';
import { parseSubject } from '../model/relationship.js';
import type { RelationAst } from '../policy/ast.js';
import { qualifySubject } from '../policy/namespaces.js';
import type { ProblemList } from '../policy/problem-list.js';
import type { DeclaredType, DeclaredTypes } from './declared-types.js';
import { localTypeName } from './declared-types.js';
import { didYouMean } from './did-you-mean.js';
import { formatAllowedSubject } from './format-expression.js';
import type { AllowedSubject, ConditionDef, RelationDef } from './schema.js';

/** "unknown type 'usr'; did you mean 'user'?", with names written the way the owner's file writes them. */
export function unknownTypeMessage(
  written: string,
  fullName: string,
  owner: DeclaredType,
  types: DeclaredTypes,
): string {
  const resolved =
    written === fullName ? '' : ` (resolved to '${fullName}' in namespace '${owner.namespace}')`;
  const candidates = [...types.keys()];
  const local = candidates.map((c) => localTypeName(c, owner.namespace));
  const suggestion = didYouMean(localTypeName(fullName, owner.namespace), local);
  return `unknown type '${written}'${resolved}${suggestion}`;
}

function sameAllowed(a: AllowedSubject, b: AllowedSubject): boolean {
  return a.type === b.type && a.wildcard === b.wildcard && a.relation === b.relation;
}

export function allowsSubject(allowed: readonly AllowedSubject[], s: SubjectRef): boolean {
  const wildcard = s.id === '*';
  return allowed.some((a) => a.type === s.type && a.wildcard === wildcard && a.relation === s.relation);
}

function compileConsequence(
  rel: RelationAst,
  owner: DeclaredType,
  allowed: readonly AllowedSubject[],
  problems: ProblemList,
): SubjectRef | undefined {
  const node = rel.ifEmptiedByDelete;
  if (node === undefined) return undefined;
  let subject: SubjectRef;
  try {
    subject = qualifySubject(parseSubject(node.text), owner.namespace);
  } catch (err) {
    if (!(err instanceof GatehouseError)) throw err;
    problems.add(node.position, node.path, err.message);
    return undefined;
  }
  if (!allowsSubject(allowed, subject)) {
    const allows = allowed.length === 0 ? 'no subject type' : allowed.map(formatAllowedSubject).join(', ');
    problems.add(
      node.position,
      node.path,
      `if_emptied_by_delete subject '${node.text}' is not allowed by relation '${owner.ast.name}#${rel.name}' (it allows ${allows}); add it to the relation's types or choose one of those`,
    );
    return undefined;
  }
  return subject;
}

/** Folds `user`, `user with a`, `user with b` into one AllowedSubject with its conditions. */
interface AllowedDraft {
  readonly subject: AllowedSubject;
  bare: boolean;
  readonly conditions: Set<string>;
}

function finish(d: AllowedDraft): AllowedSubject {
  if (d.conditions.size === 0) return d.subject;
  return { ...d.subject, conditions: [...d.conditions].sort(), requiresCondition: !d.bare };
}

export function compileRelation(
  rel: RelationAst,
  owner: DeclaredType,
  types: DeclaredTypes,
  problems: ProblemList,
  conditions: ReadonlyMap<string, ConditionDef> = new Map(),
  /** Every condition name declared, valid or not: an invalid one is reported where it is declared. */
  declaredConditions: ReadonlySet<string> = new Set(conditions.keys()),
): RelationDef {
  const drafts: AllowedDraft[] = [];
  for (const entry of rel.allowed) {
    const target = types.get(entry.type);
    if (target === undefined) {
      const written = entry.source.split(/[#:]/)[0]!;
      problems.add(
        entry.position,
        rel.path,
        `relation '${rel.name}': ${unknownTypeMessage(written, entry.type, owner, types)}`,
      );
      continue;
    }
    // A subject set may name a relation or a permission (`group#membership`): SpiceDB and
    // OpenFGA accept both, and the engine evaluates either on the subject's object.
    if (
      entry.relation !== undefined &&
      !target.relations.has(entry.relation) &&
      !target.permissions.has(entry.relation)
    ) {
      const names = [...target.relations.keys(), ...target.permissions.keys()];
      problems.add(
        entry.position,
        rel.path,
        `subject set '${entry.source}' in relation '${rel.name}': type '${entry.type}' has no relation or permission '${entry.relation}'${didYouMean(entry.relation, names)}`,
      );
      continue;
    }
    if (entry.condition !== undefined && !declaredConditions.has(entry.condition)) {
      const names = [...declaredConditions];
      problems.add(
        entry.position,
        rel.path,
        `relation '${rel.name}': '${entry.source}' names condition '${entry.condition}', which is not declared${didYouMean(entry.condition, names)}; declare it under 'conditions'`,
      );
      continue;
    }
    const compiled: AllowedSubject = { type: entry.type, relation: entry.relation, wildcard: entry.wildcard };
    let draft = drafts.find((d) => sameAllowed(d.subject, compiled));
    const repeated =
      draft !== undefined &&
      (entry.condition === undefined ? draft.bare : draft.conditions.has(entry.condition));
    if (repeated) {
      problems.add(
        entry.position,
        rel.path,
        `'${entry.source}' is listed twice in relation '${rel.name}'; remove the repeat`,
      );
      continue;
    }
    if (draft === undefined) {
      draft = { subject: compiled, bare: false, conditions: new Set() };
      drafts.push(draft);
    }
    if (entry.condition === undefined) draft.bare = true;
    else draft.conditions.add(entry.condition);
  }
  const allowed = drafts.map(finish);
  const ifEmptiedByDelete = compileConsequence(rel, owner, allowed, problems);
  return ifEmptiedByDelete === undefined
    ? { kind: 'relation', name: rel.name, allowed }
    : { kind: 'relation', name: rel.name, allowed, ifEmptiedByDelete };
}
