// OpenFGA's JSON authorization model (`type_definitions` with userset rewrites and
// `metadata.relations[*].directly_related_user_types`) → the same FgaModel the DSL parser builds.
import type { FgaExpr, FgaModel, FgaType, FgaTypeRef } from './parse-dsl.js';

type Json = Record<string, unknown>;

function rewrite(u: Json, direct: readonly FgaTypeRef[], where: string): FgaExpr {
  if ('this' in u) return { op: 'direct', types: direct };
  if ('computedUserset' in u) return { op: 'computed', name: String((u.computedUserset as Json).relation) };
  if ('tupleToUserset' in u) {
    const t = u.tupleToUserset as Json;
    return {
      op: 'ttu',
      tupleset: String((t.tupleset as Json).relation),
      name: String((t.computedUserset as Json).relation),
    };
  }
  for (const op of ['union', 'intersection'] as const) {
    if (op in u) {
      const child = ((u[op] as Json).child ?? []) as Json[];
      return { op, operands: child.map((c) => rewrite(c, direct, where)) };
    }
  }
  if ('difference' in u) {
    const d = u.difference as Json;
    return {
      op: 'exclusion',
      base: rewrite(d.base as Json, direct, where),
      subtract: rewrite(d.subtract as Json, direct, where),
    };
  }
  throw new Error(`${where}: unknown userset rewrite ${JSON.stringify(Object.keys(u))}`);
}

/** `{type_name: 'TYPE_NAME_LIST', generic_types: [{type_name: 'TYPE_NAME_STRING'}]}` → `list<string>`. */
function jsonParameterType(t: Json): string {
  const name = String(t.type_name ?? '')
    .replace(/^TYPE_NAME_/, '')
    .toLowerCase();
  const generic = ((t.generic_types ?? []) as Json[]).map(jsonParameterType);
  return generic.length === 0 ? name : `${name}<${generic.join(', ')}>`;
}

/** Parse an OpenFGA model in its JSON form (as `fga model get --format json` writes it). */
export function parseOpenFgaJson(text: string): FgaModel {
  const doc = JSON.parse(text) as Json;
  const model = ((doc.authorization_model as Json | undefined) ?? doc) as Json;
  const defs = (model.type_definitions ?? []) as Json[];
  const types: FgaType[] = defs.map((d) => {
    const name = String(d.type);
    const meta = (((d.metadata as Json | undefined)?.relations ?? {}) as Record<string, Json>) ?? {};
    const relations = Object.entries((d.relations ?? {}) as Record<string, Json>).map(([rel, u]) => {
      const direct: FgaTypeRef[] = ((meta[rel]?.directly_related_user_types ?? []) as Json[]).map((t) => ({
        type: String(t.type),
        relation: typeof t.relation === 'string' && t.relation !== '' ? t.relation : undefined,
        wildcard: t.wildcard !== undefined,
        condition: typeof t.condition === 'string' && t.condition !== '' ? t.condition : undefined,
      }));
      return {
        name: rel,
        expr: rewrite(u, direct, `${name}#${rel}`),
        line: 0,
        source: `${rel} (JSON model)`,
      };
    });
    return { name, relations };
  });
  const conditions = Object.entries((model.conditions ?? {}) as Record<string, Json>).map(([name, c]) => ({
    name,
    line: 0,
    parameters: Object.entries((c.parameters ?? {}) as Record<string, Json>)
      .map(([p, t]) => `${p}: ${jsonParameterType(t)}`)
      .join(', '),
    expression: String(c.expression ?? ''),
  }));
  return { schemaVersion: String(model.schema_version ?? '1.1'), types, conditions };
}
