// Parses a `kind: relationships` file: a list of relationship strings, kept as written with
// their positions; the policy-set compiler parses and checks them against the schema.
import type { Node } from 'yaml';
import type { RelationshipsFileAst } from './ast.js';
import { fileInput } from './file-input.js';
import type { MapEntry, YamlReader } from './yaml-reader.js';

export function parseRelationshipsFile(
  reader: YamlReader,
  root: Node,
  all: readonly MapEntry[],
): RelationshipsFileAst {
  const { entries, namespace } = fileInput(reader, root, all, 'relationships', ['relationships']);
  const list = entries.find((e) => e.key === 'relationships');
  if (list === undefined) {
    reader.report(
      root,
      '$',
      "a relationships file needs 'relationships', a list of strings such as 'group:eng#member@user:ana'",
    );
  }
  const relationships =
    list === undefined || reader.isNull(reader.resolve(list.value))
      ? []
      : reader.stringList(list.value, list.path, "'relationships'");
  return { kind: 'relationships', path: reader.source.path, namespace, relationships };
}
