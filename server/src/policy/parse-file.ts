// Parses one policy file into its AST: yaml syntax, the `kind` and `namespace` header, then
// the kind's own parser. Every problem goes to the ProblemList; the AST holds what was valid.

import type { Node, YAMLError } from 'yaml';
import { isMap, isScalar } from 'yaml';
import { didYouMean } from '../schema/did-you-mean.js';
import type { PolicyFileAst } from './ast.js';
import { parseRelationshipsFile } from './parse-relationships-file.js';
import { parseSchemaFile } from './parse-schema-file.js';
import { parseTestFile } from './parse-test-file.js';
import type { ProblemList } from './problem-list.js';
import { SourceFile } from './source-file.js';
import type { MapEntry } from './yaml-reader.js';
import { YamlReader } from './yaml-reader.js';

export const FILE_KINDS = ['schema', 'relationships', 'test'] as const;
type FileKind = (typeof FILE_KINDS)[number];

type KindParser = (reader: YamlReader, root: Node, all: readonly MapEntry[]) => PolicyFileAst;

const PARSERS: Readonly<Record<FileKind, KindParser>> = {
  schema: parseSchemaFile,
  relationships: parseRelationshipsFile,
  test: parseTestFile,
};

function isFileKind(text: string): text is FileKind {
  return (FILE_KINDS as readonly string[]).includes(text);
}

/** The mapping key starting at `offset`: the text up to its `:` on that line. */
function keyAt(content: string, offset: number): string {
  const end = content.indexOf('\n', offset);
  const line = end < 0 ? content.slice(offset) : content.slice(offset, end);
  return line.split(':')[0]!.trim();
}

/** A yaml error in our words where we can say more than the library (or say it plainer). */
function describeYamlError(err: YAMLError, content: string): string {
  switch (err.code) {
    case 'MULTIPLE_DOCS':
      return "a policy file holds one YAML document, but this one has another after '---'; move it into a file of its own";
    case 'DUPLICATE_KEY':
      // How duplicate type, relation and permission names within one file show up.
      return `duplicate key '${keyAt(content, err.pos[0])}': a name may appear only once in a mapping; remove or rename the repeat`;
    default:
      return `YAML syntax error: ${err.message}`;
  }
}

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
    for (const err of doc.errors)
      problems.add(source.positionAt(err.pos[0]), '$', describeYamlError(err, content));
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
  if (!isFileKind(kind.text)) {
    reader.report(
      kindEntry.value,
      kindEntry.path,
      `unknown kind '${kind.text}'${didYouMean(kind.text, FILE_KINDS)} (expected 'schema', 'relationships' or 'test')`,
    );
    return undefined;
  }
  return PARSERS[kind.text](reader, root, all);
}
