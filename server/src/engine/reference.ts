// A deliberately naive evaluator of the same semantics as the engine, for property tests: no
// interning, no closure, no plans — a least fixed point over every fact, computed stratum by
// stratum (the strata come from the schema's `but not` dependencies). Slow and obviously right.
import type { ObjectRef, Relationship, SubjectRef } from '../model/relationship.js';
import { formatObject, formatSubject, WILDCARD_ID } from '../model/relationship.js';
import type { Expr, ObjectTypeDef, Schema } from '../schema/schema.js';
import type { CheckRequest, LookupSubjectsResult } from './types.js';

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

export function evaluateReference(schema: Schema, relationships: readonly Relationship[]): ReferenceModel {
  const nodes: { type: ObjectTypeDef; name: string }[] = [];
  for (const type of schema.types.values()) {
    for (const name of [...type.relations.keys(), ...type.permissions.keys()]) nodes.push({ type, name });
  }
  const strata = computeStrata(schema);
  const maxStratum = Math.max(0, ...strata.values());

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
    const subjectKey = formatSubject(subject);
    const values = new Map<string, boolean>();
    const value = (o: string, name: string): boolean => values.get(`${o}#${name}`) ?? false;

    const evalExpr = (type: ObjectTypeDef, o: string, e: Expr): boolean => {
      switch (e.op) {
        case 'ref':
          return value(o, e.name);
        case 'arrow':
          return (byResource.get(`${o}#${e.via}`) ?? []).some((r) => value(formatSubject(r.subject), e.name));
        case 'union':
          return e.operands.some((x) => evalExpr(type, o, x));
        case 'intersection':
          return e.operands.every((x) => evalExpr(type, o, x));
        case 'exclusion':
          return evalExpr(type, o, e.base) && !evalExpr(type, o, e.subtract);
      }
    };
    const evalNode = (type: ObjectTypeDef, o: string, name: string): boolean => {
      if (subjectKey === `${o}#${name}`) return true;
      const permission = type.permissions.get(name);
      if (permission !== undefined) return evalExpr(type, o, permission.expr);
      return (byResource.get(`${o}#${name}`) ?? []).some((r) => {
        const s = r.subject;
        if (formatSubject(s) === subjectKey) return true;
        if (s.id === WILDCARD_ID) return subject.type === s.type && subject.relation === undefined;
        if (s.relation !== undefined) return value(`${s.type}:${s.id}`, s.relation);
        return false;
      });
    };

    for (let stratum = 0; stratum <= maxStratum; stratum++) {
      let changed = true;
      while (changed) {
        changed = false;
        for (const obj of universe.values()) {
          const o = formatObject(obj);
          for (const { type, name } of nodes) {
            if (type.name !== obj.type || strata.get(`${type.name}#${name}`) !== stratum) continue;
            if (!value(o, name) && evalNode(type, o, name)) {
              values.set(`${o}#${name}`, true);
              changed = true;
            }
          }
        }
      }
    }
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
 * Stratum of every `type#name`: at least that of everything it uses, and one more than anything
 * it subtracts with `but not`. Terminates because compiled schemas never subtract a dependant.
 */
function computeStrata(schema: Schema): Map<string, number> {
  const strata = new Map<string, number>();
  const deps: { key: string; positive: string[]; negative: string[] }[] = [];
  for (const type of schema.types.values()) {
    for (const rel of type.relations.values()) {
      const positive = rel.allowed
        .filter((a) => a.relation !== undefined)
        .map((a) => `${a.type}#${a.relation}`);
      deps.push({ key: `${type.name}#${rel.name}`, positive, negative: [] });
    }
    for (const perm of type.permissions.values()) {
      const positive: string[] = [];
      const negative: string[] = [];
      const walk = (e: Expr, into: string[]): void => {
        if (e.op === 'ref') into.push(`${type.name}#${e.name}`);
        else if (e.op === 'arrow') {
          for (const a of type.relations.get(e.via)?.allowed ?? []) into.push(`${a.type}#${e.name}`);
        } else if (e.op === 'exclusion') {
          walk(e.base, into);
          walk(e.subtract, negative);
        } else for (const o of e.operands) walk(o, into);
      };
      walk(perm.expr, positive);
      deps.push({ key: `${type.name}#${perm.name}`, positive, negative });
    }
  }
  for (const d of deps) strata.set(d.key, 0);
  for (let changed = true, rounds = 0; changed; rounds++) {
    if (rounds > deps.length + 1)
      throw new Error('schema is not stratified: a `but not` subtracts one of its dependants');
    changed = false;
    for (const d of deps) {
      let s = strata.get(d.key)!;
      for (const p of d.positive) s = Math.max(s, strata.get(p) ?? 0);
      for (const n of d.negative) s = Math.max(s, (strata.get(n) ?? 0) + 1);
      if (s !== strata.get(d.key)) {
        strata.set(d.key, s);
        changed = true;
      }
    }
  }
  return strata;
}
