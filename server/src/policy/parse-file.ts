// Parses one policy file into its AST: yaml syntax, the `kind` and `namespace` header, then
// the kind's own parser. Every problem goes to the ProblemList; the AST holds what was valid.

import type { Node } from 'yaml';
import { isMap, isScalar } from 'yaml';
import { didYouMean } from '../schema/did-you-mean.js';
import type { PolicyFileAst } from './ast.js';
import { parseRelationshipsFile } from './parse-relationships-file.js';
import { parseSchemaFile } from './parse-schema-file.js';
import { parseTestFile } from './parse-test-file.js';
import type { ProblemList } from './problem-list.js';
import { SourceFile } from './source-file.js';
import { YamlReader } from './yaml-reader.js';

export const FILE_KINDS = ['schema', 'relationships', 'test'] as const;

/** Parse one file; returns undefined when the file is too broken to say what it declares. */
export function parsePolicyFile(
  path: string,
  content: string,
  problems: ProblemList,
): PolicyFileAst | undefined {
  const source = new SourceFile(path, content);
  const reader = new YamlReader(source, problems);
  const doc = source.document;
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      problems.add(source.positionAt(err.pos[0]), '$', `YAML syntax error: ${err.message}`);
    }
    return undefined;
  }
  const root = doc.contents as Node | null;
  if (root === null || (isScalar(root) && root.value === null)) {
    problems.add(
      source.positionAt(0),
      '$',
      `the file is empty; a policy file is a mapping with 'kind: schema', 'kind: relationships' or 'kind: test'`,
    );
    return undefined;
  }
  if (!isMap(root)) {
    reader.map(root, '$', 'a policy file');
    return undefined;
  }
  const all = reader.map(root, '$', 'a policy file') ?? [];
  const kindEntry = all.find((e) => e.key === 'kind');
  if (kindEntry === undefined) {
    reader.report(
      root,
      '$',
      `missing 'kind'; add 'kind: schema', 'kind: relationships' or 'kind: test' at the top of the file`,
    );
    return undefined;
  }
  const kind = reader.string(kindEntry.value, kindEntry.path, "'kind'");
  if (kind === undefined) return undefined;
  if (!(FILE_KINDS as readonly string[]).includes(kind.text)) {
    reader.report(
      kindEntry.value,
      kindEntry.path,
      `unknown kind '${kind.text}'${didYouMean(kind.text, FILE_KINDS)} (expected 'schema', 'relationships' or 'test')`,
    );
    return undefined;
  }
  const parse =
    kind.text === 'schema'
      ? parseSchemaFile
      : kind.text === 'relationships'
        ? parseRelationshipsFile
        : parseTestFile;
  return parse(reader, root, all);
}
