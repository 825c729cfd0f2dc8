// A deliberately naive evaluator of the same semantics as the engine, for property tests: no
// interning, no closure, no plans — every fact over the whole universe, one group of mutually
// recursive rules at a time (dependencies first), each group by the well-founded semantics (the
// alternating fixpoint; for a group without `but not` inside it, simply the least fixed point).
// Undetermined facts (a cycle through `but not` in the data) are false. Slow and obviously right.
import type { ObjectRef, Relationship, SubjectRef } from '../model/relationship.js';
import { formatObject, formatSubject, WILDCARD_ID } from '../model/relationship.js';
import type { Expr, ObjectTypeDef, Schema } from '../schema/schema.js';
import { conditionPrograms } from './conditional-check.js';
import { boundName, doubleSchema, LOWER, UPPER } from './doubled-schema.js';
import type { CheckRequest, Decision, LookupSubjectsResult, RequestFacts } from './types.js';

/** The reference answers to the engine's questions over one fixed relationship set. */
export interface ReferenceModel {
  check(request: CheckRequest): boolean;
  /** Sorted ids of `resourceType` objects on which the subject has `permission`. */
  lookupResources(resourceType: string, permission: string, subject: SubjectRef): string[];
  lookupSubjects(
    resource: ObjectRef,
    permission: string,
    subjectType: string,
    subjectRelation?: string,
  ): LookupSubjectsResult;
}

/** An id no real object can have (`~` is not allowed in ids): stands for "a subject never seen". */
const FRESH_ID = '~fresh';

const sorted = (ids: Iterable<string>): string[] => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

export interface ReferenceOptions {
  /**
   * Names a subject set is compared by (identity, subject-set edges): two node names that map
   * to the same string answer to one subject set. The three-valued reference uses it so both
   * bounds of a relation hold the same sets.
   */
  readonly canonicalName?: (name: string) => string;
  /**
   * How many relationships `object#relation` has, granting or not (the three-valued reference
   * gives each bound only the granting ones): `via.all(name)` fails when some do not grant.
   * Absent: the relationships given.
   */
  readonly relationshipCount?: (object: string, relation: string) => number;
}

export function evaluateReference(
  schema: Schema,
  relationships: readonly Relationship[],
  options: ReferenceOptions = {},
): ReferenceModel {
  const canonicalName = options.canonicalName ?? ((name: string) => name);
  const canonicalSubject = (s: SubjectRef): string =>
    s.relation === undefined ? formatSubject(s) : `${s.type}:${s.id}#${canonicalName(s.relation)}`;
  const nodes: { type: ObjectTypeDef; name: string }[] = [];
  for (const type of schema.types.values()) {
    for (const name of [...type.relations.keys(), ...type.permissions.keys()]) nodes.push({ type, name });
  }
  const components = orderedComponents(schema);

  const byResource = new Map<string, Relationship[]>();
  const objects = new Map<string, ObjectRef>();
  for (const r of relationships) {
    const key = `${formatObject(r.resource)}#${r.relation}`;
    byResource.set(key, [...(byResource.get(key) ?? []), r]);
    objects.set(formatObject(r.resource), r.resource);
    if (r.subject.id !== WILDCARD_ID)
      objects.set(`${r.subject.type}:${r.subject.id}`, { type: r.subject.type, id: r.subject.id });
  }

  /** Every (object, name) → holds, for one subject, over the universe plus `extra` objects. */
  const solve = (subject: SubjectRef, extra: readonly ObjectRef[]): Map<string, boolean> => {
    const universe = new Map(objects);
    for (const o of extra) universe.set(formatObject(o), o);
    const subjectKey = canonicalSubject(subject);
    /** Final values of the components solved so far. */
    const values = new Map<string, boolean>();
    let component = new Set<string>();
    let current = new Set<string>();
    let fixed = new Set<string>();
    const value = (o: string, type: string, name: string, negated: boolean): boolean => {
      const fact = `${o}#${name}`;
      if (!component.has(`${type}#${name}`)) return values.get(fact) ?? false;
      return (negated ? fixed : current).has(fact);
    };

    const evalExpr = (type: ObjectTypeDef, o: string, e: Expr, negated: boolean): boolean => {
      switch (e.op) {
        case 'ref':
          return value(o, type.name, e.name, negated);
        case 'arrow':
          // To the subject's object, for plain subjects and subject sets alike; wildcards name none.
          return (byResource.get(`${o}#${e.via}`) ?? []).some(
            (r) =>
              r.subject.id !== WILDCARD_ID &&
              value(`${r.subject.type}:${r.subject.id}`, r.subject.type, e.name, negated),
          );
        case 'allArrow': {
          // Every relationship of `via` (and there is one) grants and leads to an object holding
          // `name`; `relationshipCount` counts the ones that do not grant (conditions false).
          const rels = byResource.get(`${o}#${e.via}`) ?? [];
          const existing = options.relationshipCount?.(o, e.via) ?? rels.length;
          return (
            rels.length > 0 &&
            rels.length === existing &&
            rels.every(
              (r) =>
                r.subject.id !== WILDCARD_ID &&
                value(`${r.subject.type}:${r.subject.id}`, r.subject.type, e.name, negated),
            )
          );
        }
        case 'union':
          return e.operands.some((x) => evalExpr(type, o, x, negated));
        case 'intersection':
          return e.operands.every((x) => evalExpr(type, o, x, negated));
        case 'exclusion':
          return evalExpr(type, o, e.base, negated) && !evalExpr(type, o, e.subtract, true);
      }
    };
    const evalNode = (type: ObjectTypeDef, o: string, name: string): boolean => {
      if (subjectKey === `${o}#${canonicalName(name)}`) return true;
      const permission = type.permissions.get(name);
      if (permission !== undefined) return evalExpr(type, o, permission.expr, false);
      return (byResource.get(`${o}#${name}`) ?? []).some((r) => {
        const s = r.subject;
        if (canonicalSubject(s) === subjectKey) return true;
        if (s.id === WILDCARD_ID) return subject.type === s.type && subject.relation === undefined;
        if (s.relation !== undefined) return value(`${s.type}:${s.id}`, s.type, s.relation, false);
        return false;
      });
    };

    // Components in dependency order; within one, the well-founded semantics by the alternating
    // fixpoint: Γ(J) is the least set of facts derivable when everything under `but not` is
    // read from J. Undetermined facts (in Γ(T) but not in T) end up false.
    for (const members of components) {
      component = new Set(members);
      const gamma = (j: Set<string>): Set<string> => {
        fixed = j;
        current = new Set();
        for (let changed = true; changed; ) {
          changed = false;
          for (const obj of universe.values()) {
            const o = formatObject(obj);
            const type = schema.types.get(obj.type)!;
            for (const key of members) {
              const [t, name] = key.split('#') as [string, string];
              if (t !== obj.type || current.has(`${o}#${name}`)) continue;
              if (evalNode(type, o, name)) {
                current.add(`${o}#${name}`);
                changed = true;
              }
            }
          }
        }
        return current;
      };
      let truth = new Set<string>();
      for (;;) {
        const next = gamma(gamma(truth));
        if (next.size === truth.size) break;
        truth = next;
      }
      for (const fact of truth) values.set(fact, true);
    }
    component = new Set();
    return values;
  };

  // Solutions per subject, over the stored objects plus the subject's own object. Objects
  // outside that universe have no relationships, so adding one changes no other object's facts.
  const solutions = new Map<string, Map<string, boolean>>();
  const check = (request: CheckRequest): boolean => {
    const { subject, resource } = request;
    const subjectObject = subject.id === WILDCARD_ID ? [] : [{ type: subject.type, id: subject.id }];
    const key = `${formatObject(resource)}#${request.permission}`;
    const inUniverse =
      objects.has(formatObject(resource)) || (subject.type === resource.type && subject.id === resource.id);
    const cacheKey = inUniverse
      ? formatSubject(subject)
      : `${formatSubject(subject)} ${formatObject(resource)}`;
    let values = solutions.get(cacheKey);
    if (values === undefined) {
      values = solve(subject, inUniverse ? subjectObject : [...subjectObject, resource]);
      solutions.set(cacheKey, values);
    }
    return values.get(key) ?? false;
  };

  const idsOf = (type: string, extra?: ObjectRef): string[] => {
    const ids = new Set<string>();
    for (const o of objects.values()) if (o.type === type) ids.add(o.id);
    if (extra !== undefined && extra.type === type) ids.add(extra.id);
    return [...ids];
  };

  return {
    check,
    lookupResources(resourceType, permission, subject) {
      const extra = subject.id === WILDCARD_ID ? undefined : { type: subject.type, id: subject.id };
      return sorted(
        idsOf(resourceType, extra).filter((id) =>
          check({ resource: { type: resourceType, id }, permission, subject }),
        ),
      );
    },
    lookupSubjects(resource, permission, subjectType, subjectRelation) {
      const holds = (id: string): boolean =>
        check({ resource, permission, subject: { type: subjectType, id, relation: subjectRelation } });
      const ids = idsOf(subjectType, subjectRelation === undefined ? undefined : resource);
      if (subjectRelation !== undefined)
        return { subjectIds: sorted(ids.filter(holds)), wildcard: false, excludedIds: [] };
      const wildcard = holds(FRESH_ID);
      return wildcard
        ? { subjectIds: [], wildcard: true, excludedIds: sorted(ids.filter((id) => !holds(id))) }
        : { subjectIds: sorted(ids.filter(holds)), wildcard: false, excludedIds: [] };
    },
  };
}

/**
 * The schema's `type#name` nodes grouped into strongly connected components of the dependency
 * graph (through refs, arrows, subject sets and both sides of `but not`), dependencies first.
 */
function orderedComponents(schema: Schema): string[][] {
  const deps = new Map<string, string[]>();
  for (const type of schema.types.values()) {
    for (const rel of type.relations.values()) {
      deps.set(
        `${type.name}#${rel.name}`,
        rel.allowed.filter((a) => a.relation !== undefined).map((a) => `${a.type}#${a.relation}`),
      );
    }
    for (const perm of type.permissions.values()) {
      const out: string[] = [];
      const walk = (e: Expr): void => {
        if (e.op === 'ref') out.push(`${type.name}#${e.name}`);
        else if (e.op === 'arrow' || e.op === 'allArrow') {
          for (const a of type.relations.get(e.via)?.allowed ?? []) out.push(`${a.type}#${e.name}`);
        } else if (e.op === 'exclusion') {
          walk(e.base);
          walk(e.subtract);
        } else for (const o of e.operands) walk(o);
      };
      walk(perm.expr);
      deps.set(`${type.name}#${perm.name}`, out);
    }
  }
  // Tarjan's algorithm emits each component after every component it depends on.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of deps.get(v) ?? []) {
      if (!deps.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const members: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      out.push(members);
    }
  };
  for (const v of deps.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** The three-valued reference answers over one relationship set and one request's facts. */
export interface ReferenceModel3 {
  decide(request: CheckRequest): Decision;
  /** Every parameter some undecided relationship of the world lacks: a bound on `missingContext`. */
  readonly missing: ReadonlySet<string>;
}

const stripBound = (name: string): string => name.replace(/~(?:lo|hi)$/, '');

/**
 * Conditions, expiry and contextual relationships, naively: every relationship (stored and
 * contextual) is judged once for the request — granted, not, or undecided — and the
 * two-valued reference above answers two worlds of the doubled schema (doubled-schema.ts):
 * the lower bound holds granted relationships, the upper bound undecided ones too.
 */
export function evaluateReference3(
  schema: Schema,
  relationships: readonly Relationship[],
  facts: RequestFacts,
): ReferenceModel3 {
  const programs = conditionPrograms(schema);
  const now = facts.now ?? Date.now();
  const missing = new Set<string>();
  const doubled: Relationship[] = [];
  const put = (r: Relationship, bound: typeof LOWER | typeof UPPER): void => {
    const subject =
      r.subject.relation === undefined
        ? r.subject
        : { ...r.subject, relation: boundName(r.subject.relation, bound) };
    doubled.push({ resource: r.resource, relation: boundName(r.relation, bound), subject });
  };
  const existing = new Map<string, number>();
  for (const r of [...relationships, ...(facts.contextualRelationships ?? [])]) {
    if (r.expiresAt !== undefined && r.expiresAt <= now) continue;
    const slot = `${formatObject(r.resource)}#${r.relation}`;
    existing.set(slot, (existing.get(slot) ?? 0) + 1);
    let granted: boolean | readonly string[] = true;
    if (r.condition !== undefined) {
      const program = programs.get(r.condition.name)!;
      granted = program.evaluate(program.bind(r.condition.context), program.bind(facts.context));
    }
    if (granted === false) continue;
    if (granted !== true) for (const name of granted) missing.add(name);
    if (granted === true) put(r, LOWER);
    put(r, UPPER);
  }
  const reference = evaluateReference(doubleSchema(schema), doubled, {
    canonicalName: stripBound,
    relationshipCount: (object, relation) => existing.get(`${object}#${stripBound(relation)}`) ?? 0,
  });
  const at = (request: CheckRequest, bound: typeof LOWER | typeof UPPER): boolean => {
    const s = request.subject;
    const subject = s.relation === undefined ? s : { ...s, relation: boundName(s.relation, bound) };
    return reference.check({
      resource: request.resource,
      permission: boundName(request.permission, bound),
      subject,
    });
  };
  return {
    missing,
    decide(request) {
      if (at(request, LOWER)) return { permissionship: 'allowed' };
      if (!at(request, UPPER)) return { permissionship: 'denied' };
      return { permissionship: 'conditional', missingContext: [...missing].sort() };
    },
  };
}
