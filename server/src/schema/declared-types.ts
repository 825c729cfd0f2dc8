// The first compiler pass: every declared type by full name, with its relations and
// permissions by name, reporting duplicate types and names shared by a relation and a permission.
import type { PermissionAst, RelationAst, SchemaFileAst, TypeAst } from '../policy/ast.js';
import type { ProblemList } from '../policy/problem-list.js';

export interface DeclaredType {
  readonly ast: TypeAst;
  /** Namespace of the file that declares the type, for writing names the way that file would. */
  readonly namespace: string | undefined;
  readonly relations: ReadonlyMap<string, RelationAst>;
  readonly permissions: ReadonlyMap<string, PermissionAst>;
}

export type DeclaredTypes = ReadonlyMap<string, DeclaredType>;

function at(p: { position: { file: string; line: number; column: number } }): string {
  return `${p.position.file}:${p.position.line}:${p.position.column}`;
}

/** A full type name as the file with `namespace` would write it: `crm/user` is `user` in `crm`. */
export function localTypeName(fullName: string, namespace: string | undefined): string {
  return namespace !== undefined && fullName.startsWith(`${namespace}/`)
    ? fullName.slice(namespace.length + 1)
    : fullName;
}

export function collectDeclaredTypes(
  files: readonly SchemaFileAst[],
  problems: ProblemList,
): Map<string, DeclaredType> {
  const types = new Map<string, DeclaredType>();
  for (const file of files) {
    for (const ast of file.types) {
      const previous = types.get(ast.name);
      if (previous !== undefined) {
        problems.add(
          ast.position,
          ast.path,
          `duplicate type '${ast.name}': already defined at ${at(previous.ast)}; define each type in exactly one schema file`,
        );
        continue;
      }
      // Duplicate keys inside one mapping are already yaml errors, so only the cross-section
      // clash (a permission named like a relation) is left to check here.
      const relations = new Map(ast.relations.map((r) => [r.name, r] as const));
      const permissions = new Map<string, PermissionAst>();
      for (const p of ast.permissions) {
        const clash = relations.get(p.name);
        if (clash !== undefined) {
          problems.add(
            p.position,
            p.path,
            `permission '${p.name}' of type '${ast.name}' has the same name as the relation declared at ${at(clash)}; rename one of them`,
          );
          continue;
        }
        permissions.set(p.name, p);
      }
      types.set(ast.name, { ast, namespace: file.namespace, relations, permissions });
    }
  }
  return types;
}
