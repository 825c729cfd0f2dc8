// Checks an imported condition (OpenFGA condition, SpiceDB caveat) against what Gatehouse's
// conditions accept — parameter types and the CEL expression, which both systems and Gatehouse
// write in the same dialect — so the importer reports precisely what cannot be translated.
import { RELATION_NAME_PATTERN } from '../model/relationship.js';
import { compileCondition, parseParameterType } from '../schema/cel-condition.js';
import type { ParameterType } from '../schema/schema.js';
import type { ImportedCondition, Unsupported } from './model.js';

/**
 * The problems Gatehouse would report for `c` (empty when it imports as is). `where` names the
 * construct in the source, e.g. `condition x_less_than` or `caveat somecaveat`.
 */
export function conditionProblems(c: ImportedCondition, feature: string, where: string): Unsupported[] {
  const problems: Unsupported[] = [];
  if (!RELATION_NAME_PATTERN.test(c.name)) {
    problems.push({ feature: 'name', where, detail: `'${c.name}' is not a valid Gatehouse condition name` });
    return problems;
  }
  const parameters = new Map<string, ParameterType>();
  for (const [name, text] of c.parameters) {
    const type = parseParameterType(text);
    if (typeof type === 'string') problems.push({ feature, where, detail: `parameter '${name}': ${type}` });
    else parameters.set(name, type);
  }
  if (problems.length > 0) return problems;
  const compiled = compileCondition({ name: c.name, parameters, expression: c.expression });
  if (Array.isArray(compiled)) {
    for (const p of compiled) {
      problems.push({ feature, where, detail: `the CEL expression does not compile here: ${p.message}` });
    }
  }
  return problems;
}

/** Splits `a: int, b: map<string>` at its top-level commas into [name, type] pairs. */
export function splitParameters(text: string): [string, string][] | string {
  const out: [string, string][] = [];
  let depth = 0;
  let start = 0;
  const parts: string[] = [];
  for (let i = 0; i <= text.length; i++) {
    const ch = text[i];
    if (ch === '<') depth++;
    else if (ch === '>') depth--;
    else if ((ch === ',' && depth === 0) || i === text.length) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  for (const part of parts) {
    if (part.trim() === '') continue;
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:?\s*(.+?)\s*$/.exec(part);
    if (m === null) return `cannot read the parameter '${part.trim()}'`;
    out.push([m[1]!, m[2]!]);
  }
  return out;
}
