// SpiceDB schema → ImportedModel: relations and permissions map one to one (`+` or, `&` and,
// `-` but not, `->` and `.any()` arrows). `nil` becomes a relation nothing is written to.
// Caveats, expiration and `.all()` arrows are reported, not imported.
import { RELATION_NAME_PATTERN, TYPE_NAME_PATTERN } from '../../model/relationship.js';
import type { FormattableExpr } from '../../schema/format-expression.js';
import type { ImportedModel, ImportedType, Unsupported } from '../model.js';
import { freeName } from '../model.js';
import type { ZedExpr, ZedSchema } from './parse-schema.js';

const usesNil = (e: ZedExpr): boolean =>
  e.op === 'nil' ||
  ((e.op === 'union' || e.op === 'intersection') && e.operands.some(usesNil)) ||
  (e.op === 'exclusion' && (usesNil(e.base) || usesNil(e.subtract)));

export function importSpiceDbSchema(schema: ZedSchema): ImportedModel {
  const unsupported: Unsupported[] = [];
  for (const c of schema.caveats) {
    unsupported.push({
      feature: 'caveat',
      where: `caveat ${c}`,
      detail: 'caveats (CEL conditions) are not imported',
    });
  }
  const types: ImportedType[] = [];
  for (const d of schema.definitions) {
    if (!TYPE_NAME_PATTERN.test(d.name)) {
      unsupported.push({
        feature: 'name',
        where: `definition ${d.name}`,
        detail: 'not a valid Gatehouse type name (at most one namespace, lowercase)',
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
        if (t.caveat !== undefined) {
          unsupported.push({
            feature: 'caveat',
            where: `${d.name}#${r.name}`,
            detail: `'${t.type} with ${t.caveat}': caveated relationships are not imported (they grant nothing)`,
          });
        }
        if (t.expiration) {
          unsupported.push({
            feature: 'expiration',
            where: `${d.name}#${r.name}`,
            detail: `'${t.type} with expiration': expiring relationships are not imported`,
          });
        }
      }
      const allowed = [
        ...new Set(
          r.types.map((t) =>
            t.wildcard ? `${t.type}:*` : t.relation === undefined ? t.type : `${t.type}#${t.relation}`,
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
            if (e.fn === 'all') {
              unsupported.push({
                feature: 'all-arrow',
                where: `${d.name}#${p.name}`,
                detail: `'${e.via}.all(${e.name})' (true only if every object holds it) is imported as '${e.via}->${e.name}' (any object); answers differ`,
              });
            }
            return { op: 'arrow', via: e.via, name: e.name };
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
  return { types, storedAs: new Map(), typeNames: new Map(), unsupported };
}

/**
 * A SpiceDB relationship (`res:id#rel@sub:id[#rel][caveat][expiration]`) as a Gatehouse one;
 * `#...` is the plain subject. Returns a reason instead when it cannot be imported.
 */
export function spiceDbRelationship(
  text: string,
): { relationship: string } | { reason: string; feature: string } {
  let t = text.trim();
  const bracket = t.indexOf('[');
  if (bracket >= 0) {
    const suffix = t.slice(bracket);
    const feature = /expiration/.test(suffix) ? 'expiration' : 'caveat';
    return { reason: `'${suffix}' (${feature}) is not imported`, feature };
  }
  t = t.replace(/#\.\.\.$/, '');
  return { relationship: t };
}
