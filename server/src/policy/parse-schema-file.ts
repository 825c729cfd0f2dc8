// Parses a `kind: schema` file: types, their relations (short and long form) and permission
// expressions, with positions. Name resolution against other types happens in the compiler.

import type { Node } from 'yaml';
import { isMap } from 'yaml';
import type {
  ConditionAst,
  ConditionParameterAst,
  PermissionAst,
  RelationAst,
  SchemaFileAst,
  TypeAst,
} from './ast.js';
import type { StringParseContext } from './expression-parser.js';
import { parseExpression, relationNameProblem } from './expression-parser.js';
import { fileInput } from './file-input.js';
import { RESERVED_WORDS } from './lexer.js';
import { qualifyTypeName } from './namespaces.js';
import { parseTypeList } from './type-list-parser.js';
import type { MapEntry, YamlReader } from './yaml-reader.js';

/** Offsets inside a scalar map to file positions; syntax problems are reported at them. */
function scalarContext(reader: YamlReader, node: Node, path: string): StringParseContext {
  return {
    positionAt: (offset) => reader.source.positionInScalar(node, offset),
    report: (offset, message) =>
      reader.problems.add(reader.source.positionInScalar(node, offset), path, message),
  };
}

function declaredNameProblem(name: string, what: string): string | undefined {
  if (name.includes('/')) {
    return `${what} '${name}' contains '/': declare types without a namespace prefix and set 'namespace:' at the top of the file instead`;
  }
  const problem = relationNameProblem(name);
  if (problem !== undefined) return `${what} ${problem}`;
  if (RESERVED_WORDS.has(name))
    return `${what} '${name}' is a reserved word in expressions; choose another name`;
  return undefined;
}

function parseRelation(
  reader: YamlReader,
  entry: MapEntry,
  namespace: string | undefined,
): RelationAst | undefined {
  const resolved = reader.resolve(entry.value);
  let typesNode: Node = entry.value;
  let typesPath = entry.path;
  let ifEmptied: RelationAst['ifEmptiedByDelete'];
  if (isMap(resolved)) {
    // Long form: { types: "...", if_emptied_by_delete: "..." }.
    const fields = reader.map(resolved, entry.path, `relation '${entry.key}'`, [
      'types',
      'if_emptied_by_delete',
    ]);
    if (fields === undefined) return undefined;
    const types = fields.find((f) => f.key === 'types');
    if (types === undefined) {
      reader.report(
        entry.keyNode,
        entry.path,
        `relation '${entry.key}' needs 'types', the subject types it allows (such as 'user or group#member')`,
      );
      return undefined;
    }
    typesNode = types.value;
    typesPath = types.path;
    const emptied = fields.find((f) => f.key === 'if_emptied_by_delete');
    if (emptied !== undefined)
      ifEmptied = reader.string(emptied.value, emptied.path, "'if_emptied_by_delete'");
  }
  const text = reader.string(typesNode, typesPath, `the type list of relation '${entry.key}'`);
  if (text === undefined) return undefined;
  const allowed = parseTypeList(text.text, namespace, scalarContext(reader, typesNode, typesPath));
  if (allowed === undefined) return undefined;
  return {
    name: entry.key,
    position: reader.source.positionOf(entry.keyNode),
    path: entry.path,
    allowed,
    ifEmptiedByDelete: ifEmptied,
  };
}

function parsePermission(reader: YamlReader, entry: MapEntry): PermissionAst | undefined {
  const text = reader.string(entry.value, entry.path, `the expression of permission '${entry.key}'`);
  if (text === undefined) return undefined;
  const expr = parseExpression(text.text, scalarContext(reader, entry.value, entry.path));
  if (expr === undefined) return undefined;
  return { name: entry.key, position: reader.source.positionOf(entry.keyNode), path: entry.path, expr };
}

function parseNamedSection<T>(
  reader: YamlReader,
  section: MapEntry | undefined,
  what: string,
  parseOne: (entry: MapEntry) => T | undefined,
): T[] {
  if (section === undefined || reader.isNull(reader.resolve(section.value))) return [];
  const entries = reader.map(section.value, section.path, `'${section.key}'`) ?? [];
  const out: T[] = [];
  for (const entry of entries) {
    const problem = declaredNameProblem(entry.key, what);
    if (problem !== undefined) {
      reader.report(entry.keyNode, entry.path, problem);
      continue;
    }
    const parsed = parseOne(entry);
    if (parsed !== undefined) out.push(parsed);
  }
  return out;
}

function parseType(reader: YamlReader, entry: MapEntry, namespace: string | undefined): TypeAst {
  const body = reader.resolve(entry.value);
  const fields = reader.isNull(body)
    ? []
    : (reader.map(entry.value, entry.path, `type '${entry.key}'`, ['relations', 'permissions']) ?? []);
  const relations = parseNamedSection(
    reader,
    fields.find((f) => f.key === 'relations'),
    'relation',
    (e) => parseRelation(reader, e, namespace),
  );
  const permissions = parseNamedSection(
    reader,
    fields.find((f) => f.key === 'permissions'),
    'permission',
    (e) => parsePermission(reader, e),
  );
  return {
    localName: entry.key,
    name: qualifyTypeName(entry.key, namespace),
    position: reader.source.positionOf(entry.keyNode),
    path: entry.path,
    relations,
    permissions,
  };
}

/** `name: { parameters: { p: type, … }, expression: "CEL" }`; types are checked by the compiler. */
function parseCondition(reader: YamlReader, entry: MapEntry): ConditionAst | undefined {
  const fields = reader.map(entry.value, entry.path, `condition '${entry.key}'`, [
    'parameters',
    'expression',
  ]);
  if (fields === undefined) return undefined;
  const expressionEntry = fields.find((f) => f.key === 'expression');
  if (expressionEntry === undefined) {
    reader.report(
      entry.keyNode,
      entry.path,
      `condition '${entry.key}' needs 'expression', a CEL expression over its parameters such as 'ip.in_cidr(cidr)'`,
    );
    return undefined;
  }
  const expression = reader.string(
    expressionEntry.value,
    expressionEntry.path,
    `the expression of condition '${entry.key}'`,
  );
  if (expression === undefined) return undefined;
  const parameters: ConditionParameterAst[] = [];
  const paramsEntry = fields.find((f) => f.key === 'parameters');
  if (paramsEntry !== undefined && !reader.isNull(reader.resolve(paramsEntry.value))) {
    for (const p of reader.map(
      paramsEntry.value,
      paramsEntry.path,
      `the parameters of condition '${entry.key}'`,
    ) ?? []) {
      const type = reader.string(p.value, p.path, `the type of parameter '${p.key}'`);
      if (type === undefined) continue;
      const problem = relationNameProblem(p.key);
      if (problem !== undefined) {
        reader.report(p.keyNode, p.path, `parameter ${problem}`);
        continue;
      }
      parameters.push({ name: p.key, type: type.text, position: reader.source.positionOf(p.value) });
    }
  }
  const node = expressionEntry.value;
  return {
    name: entry.key,
    position: reader.source.positionOf(entry.keyNode),
    path: entry.path,
    parameters,
    expression,
    positionAt: (offset) => reader.source.positionInScalar(node, offset),
  };
}

export function parseSchemaFile(reader: YamlReader, root: Node, all: readonly MapEntry[]): SchemaFileAst {
  const { entries, namespace } = fileInput(reader, root, all, 'schema', [
    'types',
    'conditions',
    'missing_context',
  ]);
  const typesEntry = entries.find((e) => e.key === 'types');
  const types: TypeAst[] = [];
  if (typesEntry === undefined) {
    reader.report(
      root,
      '$',
      "a schema file needs 'types', a mapping from type names to their relations and permissions",
    );
  } else {
    for (const entry of reader.map(typesEntry.value, typesEntry.path, "'types'") ?? []) {
      const problem = declaredNameProblem(entry.key, 'type');
      if (problem !== undefined) reader.report(entry.keyNode, entry.path, problem);
      else types.push(parseType(reader, entry, namespace));
    }
  }
  const conditions = parseNamedSection(
    reader,
    entries.find((e) => e.key === 'conditions'),
    'condition',
    (e) => parseCondition(reader, e),
  );
  const modeEntry = entries.find((e) => e.key === 'missing_context');
  const missingContext =
    modeEntry === undefined ? undefined : reader.string(modeEntry.value, modeEntry.path, "'missing_context'");
  return { kind: 'schema', path: reader.source.path, namespace, types, conditions, missingContext };
}
