// Compiles the `conditions:` sections of the schema files: parameter types, reserved and
// repeated names, and each CEL expression (cel-condition.ts), every problem with its position.
import { EXPIRATION_ATTRIBUTE } from '../model/relationship.js';
import type { ConditionAst, SchemaFileAst } from '../policy/ast.js';
import type { ProblemList } from '../policy/problem-list.js';
import { compileCondition, parseParameterType } from './cel-condition.js';
import type { ConditionDef, MissingContextRule, ParameterType } from './schema.js';

function compileOne(ast: ConditionAst, problems: ProblemList): ConditionDef | undefined {
  let ok = true;
  const parameters = new Map<string, ParameterType>();
  for (const p of ast.parameters) {
    const type = parseParameterType(p.type);
    if (typeof type === 'string') {
      problems.add(p.position, `${ast.path}.parameters.${p.name}`, `parameter '${p.name}': ${type}`);
      ok = false;
    } else parameters.set(p.name, type);
  }
  if (!ok) return undefined;
  const def: ConditionDef = { name: ast.name, parameters, expression: ast.expression.text };
  const compiled = compileCondition(def);
  if (!Array.isArray(compiled)) return def;
  for (const problem of compiled) {
    const position = problem.offset === undefined ? ast.expression.position : ast.positionAt(problem.offset);
    problems.add(position, ast.expression.path, problem.message);
  }
  return undefined;
}

/** Every valid condition of `files` by name; problems for the others. Names are global (not namespaced). */
export function compileConditions(
  files: readonly SchemaFileAst[],
  problems: ProblemList,
): Map<string, ConditionDef> {
  const out = new Map<string, ConditionDef>();
  const seen = new Set<string>();
  for (const file of files) {
    for (const ast of file.conditions ?? []) {
      if (ast.name === EXPIRATION_ATTRIBUTE) {
        problems.add(
          ast.position,
          ast.path,
          `'${EXPIRATION_ATTRIBUTE}' is reserved for expiring relationships ([expiration:…]); name the condition otherwise`,
        );
        continue;
      }
      if (seen.has(ast.name)) {
        problems.add(ast.position, ast.path, `condition '${ast.name}' is declared twice; keep one`);
        continue;
      }
      seen.add(ast.name);
      const def = compileOne(ast, problems);
      if (def !== undefined) out.set(ast.name, def);
    }
  }
  return out;
}

const MISSING_CONTEXT_RULES: readonly MissingContextRule[] = ['partial', 'strict'];

/**
 * The policy set's `missing_context:` rule: any schema file may set it, all that set it must
 * agree; `partial` when none does.
 */
export function compileMissingContext(
  files: readonly SchemaFileAst[],
  problems: ProblemList,
): MissingContextRule {
  let chosen: { rule: MissingContextRule; path: string } | undefined;
  for (const file of files) {
    const node = file.missingContext;
    if (node === undefined) continue;
    const rule = MISSING_CONTEXT_RULES.find((r) => r === node.text);
    if (rule === undefined) {
      problems.add(
        node.position,
        node.path,
        `missing_context '${node.text}' is not a rule; use 'partial' (the default: answer from what the given values decide) or 'strict' (OpenFGA's: any missing parameter leaves the condition undecided)`,
      );
      continue;
    }
    if (chosen !== undefined && chosen.rule !== rule) {
      problems.add(
        node.position,
        node.path,
        `missing_context is '${rule}' here but '${chosen.rule}' in ${chosen.path}; it applies to the whole policy set, so set it once`,
      );
      continue;
    }
    chosen ??= { rule, path: file.path };
  }
  return chosen?.rule ?? 'partial';
}
