// The schema compiler: policy ASTs of every schema file → one checked Schema. Reports every
// problem (unknown names, bad arrows, duplicates) with its position, and warns about rules that
// can never be true; the Schema it returns upholds the invariants documented in schema.ts.
import type { SchemaFileAst } from '../policy/ast.js';
import { ProblemList } from '../policy/problem-list.js';
import { canonicalSchema, schemaHash } from './canonical.js';
import { compileConditions, compileMissingContext } from './compile-conditions.js';
import { compileExpression } from './compile-expression.js';
import { compileRelation } from './compile-relation.js';
import { collectDeclaredTypes } from './declared-types.js';
import type { NodeKey } from './dependency-graph.js';
import { nodeKey } from './dependency-graph.js';
import { warnNeverTrue } from './never-true.js';
import type { ObjectTypeDef, PermissionDef, RelationDef, Schema } from './schema.js';

/**
 * Compile into `problems`. Always returns a Schema of what was valid, so later passes (data
 * and test files) can still be checked and report their own problems; it is only sound to
 * use when `problems` stayed empty.
 */
export function compileSchemaCollecting(files: readonly SchemaFileAst[], problems: ProblemList): Schema {
  const declared = collectDeclaredTypes(files, problems);
  const conditions = compileConditions(files, problems);
  const declaredConditions = new Set(files.flatMap((f) => (f.conditions ?? []).map((c) => c.name)));
  const compiled = new Set<NodeKey>();
  const defs: ObjectTypeDef[] = [];
  for (const t of declared.values()) {
    const relations = new Map<string, RelationDef>();
    for (const r of t.relations.values()) {
      relations.set(r.name, compileRelation(r, t, declared, problems, conditions, declaredConditions));
      compiled.add(nodeKey(t.ast.name, r.name));
    }
    const permissions = new Map<string, PermissionDef>();
    for (const p of t.permissions.values()) {
      const expr = compileExpression(p, t, declared, problems);
      if (expr === undefined) {
        // Still declared: checks and lookups in test files that name it must not be told it
        // does not exist ("did you mean 'writer'?") when its expression has a typo. The
        // schema is unusable anyway once a problem is reported.
        permissions.set(p.name, { kind: 'permission', name: p.name, expr: { op: 'union', operands: [] } });
        continue;
      }
      permissions.set(p.name, { kind: 'permission', name: p.name, expr });
      compiled.add(nodeKey(t.ast.name, p.name));
    }
    defs.push({ name: t.ast.name, relations, permissions });
  }

  warnNeverTrue(declared, compiled, problems);
  defs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const types = new Map(defs.map((d) => [d.name, d]));
  const missingContext = compileMissingContext(files, problems);
  const hash = schemaHash(canonicalSchema(defs, conditions.values(), missingContext));
  const schema: Schema = conditions.size === 0 ? { types, hash } : { types, conditions, hash };
  return missingContext === 'partial' ? schema : { ...schema, missingContext };
}

/** Compile the schema files of a policy set; throws one PolicyError listing every problem. */
export function compileSchema(files: readonly SchemaFileAst[]): Schema {
  const problems = new ProblemList();
  const schema = compileSchemaCollecting(files, problems);
  problems.throwIfAny();
  return schema;
}
