// Parses a `kind: relationships` file: a list of relationship strings, kept as written with
// their positions; the policy-set compiler parses and checks them against the schema.
import type { Node } from 'yaml';
import type { RelationshipsFileAst } from './ast.js';
import { fileInput } from './file-input.js';
import { relationshipFileProblem } from './relationship-file.js';
import type { MapEntry, YamlReader } from './yaml-reader.js';

export function parseRelationshipsFile(
  reader: YamlReader,
  root: Node,
  all: readonly MapEntry[],
): RelationshipsFileAst {
  const { entries, namespace } = fileInput(reader, root, all, 'relationships', ['relationships', 'file']);
  const list = entries.find((e) => e.key === 'relationships');
  const fileEntry = entries.find((e) => e.key === 'file');
  if (list === undefined && fileEntry === undefined) {
    reader.report(
      root,
      '$',
      "a relationships file needs 'relationships', a list of strings such as 'group:eng#member@user:ana', or 'file', a bulk file of them (data.txt, data.ndjson or data.csv)",
    );
  }
  if (list !== undefined && fileEntry !== undefined) {
    reader.report(
      fileEntry.keyNode,
      fileEntry.path,
      "use either 'relationships' or 'file' in one file, not both",
    );
  }
  const file = fileEntry === undefined ? undefined : reader.string(fileEntry.value, fileEntry.path, "'file'");
  if (file !== undefined) {
    const problem = relationshipFileProblem(file.text);
    if (problem !== undefined) reader.report(fileEntry?.value, fileEntry?.path ?? '$.file', problem);
  }
  const relationships =
    list === undefined || reader.isNull(reader.resolve(list.value))
      ? []
      : reader.stringList(list.value, list.path, "'relationships'");
  return { kind: 'relationships', path: reader.source.path, namespace, relationships, file };
}
