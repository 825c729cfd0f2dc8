// The header every policy file shares: its top-level keys checked against the kind's keys,
// and its `namespace`, which the kind parsers use to resolve type names.
import type { Node } from 'yaml';
import { NAMESPACE_PATTERN } from '../model/relationship.js';
import { didYouMean } from '../schema/did-you-mean.js';
import { RESERVED_WORDS } from './lexer.js';
import type { MapEntry, YamlReader } from './yaml-reader.js';

/** Everything a kind parser needs: the reader, the file's top-level entries and its namespace. */
export interface FileParseInput {
  readonly reader: YamlReader;
  readonly root: Node;
  readonly entries: readonly MapEntry[];
  readonly namespace: string | undefined;
}

function parseNamespace(reader: YamlReader, entry: MapEntry | undefined): string | undefined {
  if (entry === undefined) return undefined;
  const ns = reader.string(entry.value, entry.path, "'namespace'");
  if (ns === undefined) return undefined;
  if (!NAMESPACE_PATTERN.test(ns.text) || ns.text.split('/').some((level) => RESERVED_WORDS.has(level))) {
    reader.report(
      entry.value,
      entry.path,
      `namespace '${ns.text}' is not a valid name; use lowercase letters, digits and '_', starting with a letter, at most 63 characters, and '/' between levels ('org/sales'), at most 7 levels`,
    );
    return undefined;
  }
  return ns.text;
}

/** Split the top-level entries, reporting keys the kind does not know. */
export function fileInput(
  reader: YamlReader,
  root: Node,
  all: readonly MapEntry[],
  kind: string,
  keys: readonly string[],
): FileParseInput {
  const allowed = ['kind', 'namespace', ...keys];
  const entries: MapEntry[] = [];
  for (const entry of all) {
    if (allowed.includes(entry.key)) entries.push(entry);
    else {
      reader.report(
        entry.keyNode,
        entry.path,
        `unknown key '${entry.key}' in a '${kind}' file${didYouMean(entry.key, allowed)} (expected ${allowed.map((k) => `'${k}'`).join(', ')})`,
      );
    }
  }
  const namespace = parseNamespace(
    reader,
    entries.find((e) => e.key === 'namespace'),
  );
  return { reader, root, entries, namespace };
}
