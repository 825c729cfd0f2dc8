// OpenFGA model → ImportedModel. A definition that is only a direct assignment becomes a
// relation; one that is only computed becomes a permission; one that mixes both (`[user] or
// owner`) becomes a relation `NAME_direct` holding the assignable types and a permission
// `NAME` that uses it (its tuples are stored under `NAME_direct`). Conditions are carried over
// with their CEL as is (both speak CEL); one Gatehouse cannot compile is reported.
import { RELATION_NAME_PATTERN, TYPE_NAME_PATTERN } from '../../model/relationship.js';
import type { FormattableExpr } from '../../schema/format-expression.js';
import { conditionProblems, splitParameters } from '../conditions.js';
import type { ImportedCondition, ImportedModel, ImportedType, Unsupported } from '../model.js';
import { freeName } from '../model.js';
import type { FgaExpr, FgaModel, FgaTypeRef } from './parse-dsl.js';

function hasDirect(e: FgaExpr): boolean {
  switch (e.op) {
    case 'direct':
      return true;
    case 'union':
    case 'intersection':
      return e.operands.some(hasDirect);
    case 'exclusion':
      return hasDirect(e.base) || hasDirect(e.subtract);
    default:
      return false;
  }
}

function directTypes(e: FgaExpr): FgaTypeRef[] {
  switch (e.op) {
    case 'direct':
      return [...e.types];
    case 'union':
    case 'intersection':
      return e.operands.flatMap(directTypes);
    case 'exclusion':
      return [...directTypes(e.base), ...directTypes(e.subtract)];
    default:
      return [];
  }
}

export function importOpenFgaModel(model: FgaModel): ImportedModel {
  const unsupported: Unsupported[] = [];
  const storedAs = new Map<string, string>();
  const conditions: ImportedCondition[] = [];
  for (const c of model.conditions) {
    const where = c.line > 0 ? `condition ${c.name} (line ${c.line})` : `condition ${c.name}`;
    const parameters = splitParameters(c.parameters);
    if (typeof parameters === 'string') {
      unsupported.push({ feature: 'condition', where, detail: parameters });
      continue;
    }
    const imported: ImportedCondition = {
      name: c.name,
      parameters,
      expression: c.expression,
      comment: `OpenFGA: condition ${c.name}(${c.parameters})`,
    };
    const problems = conditionProblems(imported, 'condition', where);
    if (problems.length > 0) unsupported.push(...problems);
    else conditions.push(imported);
  }
  // Type names Gatehouse does not accept (OpenFGA allows `scopeA`) are renamed (`scope_a`);
  // tuples and answers are translated with the same map.
  const typeNames = new Map<string, string>();
  const taken = new Set(model.types.map((t) => t.name));
  for (const t of model.types) {
    if (TYPE_NAME_PATTERN.test(t.name)) continue;
    let renamed = t.name
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[^a-z0-9_/]/g, '_');
    if (!/^[a-z]/.test(renamed)) renamed = `t_${renamed}`;
    while (taken.has(renamed)) renamed += '_';
    if (!TYPE_NAME_PATTERN.test(renamed)) {
      unsupported.push({
        feature: 'name',
        where: `type ${t.name}`,
        detail: 'not a valid Gatehouse type name',
      });
      continue;
    }
    taken.add(renamed);
    typeNames.set(t.name, renamed);
  }
  const typeName = (n: string): string => typeNames.get(n) ?? n;
  const formatRef = (t: FgaTypeRef): string =>
    (t.wildcard
      ? `${typeName(t.type)}:*`
      : t.relation === undefined
        ? typeName(t.type)
        : `${typeName(t.type)}#${t.relation}`) + (t.condition === undefined ? '' : ` with ${t.condition}`);
  const known = new Set(conditions.map((c) => c.name));
  const types: ImportedType[] = [];
  for (const t of model.types) {
    const renamed = typeNames.get(t.name);
    const out: ImportedType = {
      name: typeName(t.name),
      relations: [],
      permissions: [],
      comment:
        renamed === undefined
          ? undefined
          : `OpenFGA type '${t.name}', renamed: Gatehouse type names are lowercase`,
    };
    const reserved = new Set(t.relations.map((r) => r.name));
    for (const r of t.relations) {
      if (!RELATION_NAME_PATTERN.test(r.name)) {
        unsupported.push({
          feature: 'name',
          where: `${t.name}#${r.name}`,
          detail: 'not a valid Gatehouse relation name',
        });
      }
      const refs = directTypes(r.expr);
      for (const ref of refs) {
        if (ref.condition !== undefined && !known.has(ref.condition)) {
          unsupported.push({
            feature: 'condition',
            where: `${t.name}#${r.name}`,
            detail: `'${formatRef(ref)}': the condition is not declared, or could not be imported`,
          });
        }
      }
      const allowed = [...new Set(refs.map(formatRef))];
      if (r.expr.op === 'direct') {
        out.relations.push({ name: r.name, allowed, comment: `OpenFGA: ${r.source}` });
        continue;
      }
      let directName: string | undefined;
      if (hasDirect(r.expr)) {
        directName = freeName(out, `${r.name}_direct`, reserved);
        reserved.add(directName);
        out.relations.push({
          name: directName,
          allowed,
          comment: `OpenFGA: the assignable types of '${r.name}'`,
        });
        storedAs.set(`${t.name}#${r.name}`, directName);
      }
      const convert = (e: FgaExpr): FormattableExpr => {
        switch (e.op) {
          case 'direct':
            return { op: 'ref', name: directName! };
          case 'computed':
            return { op: 'ref', name: e.name };
          case 'ttu':
            return { op: 'arrow', via: e.tupleset, name: e.name };
          case 'union':
          case 'intersection':
            return { op: e.op, operands: e.operands.map(convert) };
          case 'exclusion':
            return { op: 'exclusion', base: convert(e.base), subtract: convert(e.subtract) };
        }
      };
      out.permissions.push({ name: r.name, expr: convert(r.expr), comment: `OpenFGA: ${r.source}` });
    }
    types.push(out);
  }
  // OpenFGA answers "missing context" whenever a condition lacks any parameter it declares.
  return { types, conditions, missingContext: 'strict', storedAs, typeNames, unsupported };
}

/** `type:id` or `type:id#rel` with the type renamed as the import renamed it. */
export function renameObjectType(model: ImportedModel, ref: string): string {
  const colon = ref.indexOf(':');
  if (colon < 0) return model.typeNames.get(ref) ?? ref;
  const type = ref.slice(0, colon);
  return `${model.typeNames.get(type) ?? type}${ref.slice(colon)}`;
}

/** A tuple's `condition: {name, context}`, or a sentence saying why it is not one. */
export function openFgaTupleCondition(
  condition: unknown,
): { readonly name: string; readonly context?: Record<string, unknown> } | undefined | string {
  if (condition === undefined || condition === null) return undefined;
  const c = condition as { name?: unknown; context?: unknown };
  if (typeof c !== 'object' || typeof c.name !== 'string' || c.name === '')
    return "a condition needs a 'name'";
  if (c.context === undefined || c.context === null) return { name: c.name };
  if (typeof c.context !== 'object' || Array.isArray(c.context))
    return "a condition's 'context' must be a mapping";
  return { name: c.name, context: c.context as Record<string, unknown> };
}

/** An OpenFGA tuple as a Gatehouse relationship string (types and stored relations renamed). */
export function openFgaTupleToRelationship(
  model: ImportedModel,
  tuple: {
    readonly object: string;
    readonly relation: string;
    readonly user: string;
    readonly condition?: { readonly name: string; readonly context?: Record<string, unknown> } | undefined;
  },
): string {
  const type = tuple.object.slice(0, tuple.object.indexOf(':'));
  const relation = model.storedAs.get(`${type}#${tuple.relation}`) ?? tuple.relation;
  const base = `${renameObjectType(model, tuple.object)}#${relation}@${renameObjectType(model, tuple.user)}`;
  const c = tuple.condition;
  if (c === undefined) return base;
  return c.context === undefined || Object.keys(c.context).length === 0
    ? `${base}[${c.name}]`
    : `${base}[${c.name}:${JSON.stringify(c.context)}]`;
}
