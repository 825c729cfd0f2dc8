// SpiceDB schema → ImportedModel: relations and permissions map one to one (`+` or, `&` and,
// `-` but not, `->` and `.any()` arrows). `nil` becomes a relation nothing is written to.
// Caveats become conditions (CEL as is; a namespaced `ns/name` becomes `ns_name`), `with
// expiration` needs nothing (any Gatehouse relationship may expire); `.all()` is `via.all(name)`.
import {
  formatRelationshipWithAttributes,
  parseRelationship,
  RELATION_NAME_PATTERN,
  TYPE_NAME_PATTERN,
} from '../../model/relationship.js';
import type { FormattableExpr } from '../../schema/format-expression.js';
import { conditionProblems, splitParameters } from '../conditions.js';
import type { ImportedCondition, ImportedModel, ImportedType, Unsupported } from '../model.js';
import { freeName } from '../model.js';
import type { ZedExpr, ZedSchema } from './parse-schema.js';

const usesNil = (e: ZedExpr): boolean =>
  e.op === 'nil' ||
  ((e.op === 'union' || e.op === 'intersection') && e.operands.some(usesNil)) ||
  (e.op === 'exclusion' && (usesNil(e.base) || usesNil(e.subtract)));

/** A caveat's Gatehouse condition name: condition names have no namespace. */
export function caveatConditionName(name: string): string {
  return name.replace(/\//g, '_');
}

export function importSpiceDbSchema(schema: ZedSchema): ImportedModel {
  const unsupported: Unsupported[] = [];
  const conditions: ImportedCondition[] = [];
  for (const c of schema.caveatBlocks) {
    const where = `caveat ${c.name}`;
    const parameters = splitParameters(c.parameters);
    if (typeof parameters === 'string') {
      unsupported.push({ feature: 'caveat', where, detail: parameters });
      continue;
    }
    const imported: ImportedCondition = {
      name: caveatConditionName(c.name),
      parameters,
      expression: c.expression,
      comment: `SpiceDB: caveat ${c.name}(${c.parameters})`,
    };
    const problems = conditionProblems(imported, 'caveat', where);
    if (problems.length > 0) unsupported.push(...problems);
    else conditions.push(imported);
  }
  const known = new Set(
    schema.caveatBlocks
      .map((c) => c.name)
      .filter((n) => conditions.some((c) => c.name === caveatConditionName(n))),
  );
  const types: ImportedType[] = [];
  for (const d of schema.definitions) {
    if (!TYPE_NAME_PATTERN.test(d.name)) {
      unsupported.push({
        feature: 'name',
        where: `definition ${d.name}`,
        detail:
          'not a valid Gatehouse type name (lowercase, at most 7 namespace levels, at most 63 characters a level)',
      });
    }
    const out: ImportedType = { name: d.name, relations: [], permissions: [] };
    for (const r of d.relations) {
      if (!RELATION_NAME_PATTERN.test(r.name)) {
        unsupported.push({
          feature: 'name',
          where: `${d.name}#${r.name}`,
          detail: 'not a valid relation name',
        });
      }
      for (const t of r.types) {
        if (t.caveat !== undefined && !known.has(t.caveat)) {
          unsupported.push({
            feature: 'caveat',
            where: `${d.name}#${r.name}`,
            detail: `'${t.type} with ${t.caveat}': the caveat is not declared, or could not be imported`,
          });
        }
      }
      // `with expiration` adds nothing: every Gatehouse relationship may carry an expiry.
      const allowed = [
        ...new Set(
          r.types.map(
            (t) =>
              (t.wildcard ? `${t.type}:*` : t.relation === undefined ? t.type : `${t.type}#${t.relation}`) +
              (t.caveat === undefined ? '' : ` with ${caveatConditionName(t.caveat)}`),
          ),
        ),
      ];
      out.relations.push({ name: r.name, allowed, comment: `SpiceDB: ${r.source}` });
    }
    let nilName: string | undefined;
    if (d.permissions.some((p) => usesNil(p.expr))) {
      nilName = freeName(out, 'nil_relation');
      out.relations.push({
        name: nilName,
        allowed: [d.name],
        comment: "SpiceDB: stands for 'nil' (nothing is ever written to it)",
      });
    }
    for (const p of d.permissions) {
      const convert = (e: ZedExpr): FormattableExpr => {
        switch (e.op) {
          case 'ref':
            return e;
          case 'nil':
            return { op: 'ref', name: nilName! };
          case 'arrow':
            // `.any()` is the ordinary arrow; `.all()` is Gatehouse's `via.all(name)`.
            return { op: e.fn === 'all' ? 'allArrow' : 'arrow', via: e.via, name: e.name };
          case 'union':
          case 'intersection':
            return { op: e.op, operands: e.operands.map(convert) };
          case 'exclusion':
            return { op: 'exclusion', base: convert(e.base), subtract: convert(e.subtract) };
        }
      };
      out.permissions.push({ name: p.name, expr: convert(p.expr), comment: `SpiceDB: ${p.source}` });
    }
    types.push(out);
  }
  return { types, conditions, storedAs: new Map(), typeNames: new Map(), unsupported };
}

/**
 * A SpiceDB relationship (`res:id#rel@sub:id[#rel][caveat][expiration]`) as a Gatehouse one;
 * `#...` is the plain subject. Returns a reason instead when it cannot be imported.
 */
export function spiceDbRelationship(
  text: string,
): { relationship: string } | { reason: string; feature: string } {
  const t = text.trim();
  const bracket = t.indexOf('[');
  const identity = (bracket < 0 ? t : t.slice(0, bracket)).replace(/#\.\.\.$/, '');
  if (bracket < 0) return { relationship: identity };
  // Gatehouse reads SpiceDB's `[caveat:{...}]` and `[expiration:...]` notation as it is; only a
  // namespaced caveat name is renamed.
  const suffix = t
    .slice(bracket)
    .replace(
      /^\[([A-Za-z0-9_]+\/[A-Za-z0-9_/]+)(?=[:\]])/,
      (_m, name: string) => `[${caveatConditionName(name)}`,
    );
  try {
    const parsed = parseRelationship(identity + suffix);
    return { relationship: formatRelationshipWithAttributes(parsed) };
  } catch (err) {
    const feature = /expiration/.test(suffix) ? 'expiration' : 'caveat';
    return { reason: `'${suffix}': ${(err as Error).message}`, feature };
  }
}
