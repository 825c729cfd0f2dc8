// Shape checks over yaml nodes for the file parsers: mappings with known keys, strings and
// lists, each failure reported as a positioned problem instead of thrown.

import type { Node } from 'yaml';
import { isAlias, isMap, isScalar, isSeq, Scalar } from 'yaml';
import { didYouMean } from '../schema/did-you-mean.js';
import type { StringNode } from './ast.js';
import type { ProblemList } from './problem-list.js';
import type { SourceFile } from './source-file.js';

export interface MapEntry {
  readonly key: string;
  readonly keyNode: Node;
  /** The value node; a null scalar where the pair has none (`? key`), placed at the key. */
  readonly value: Node;
  /** JSONPath-like path of the value. */
  readonly path: string;
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `$.types` + `contact` → `$.types.contact`; keys that are not identifiers use `['…']`. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return SIMPLE_KEY.test(key) ? `${path}.${key}` : `${path}['${key.replace(/'/g, "\\'")}']`;
}

function describeNode(node: Node | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    if (node.value === null) return 'nothing';
    return typeof node.value === 'string'
      ? `the string '${node.value}'`
      : `${typeof node.value} ${String(node.value)}`;
  }
  return 'an unsupported value';
}

/** A null value placed at `key`, for a pair without a value node, so problems point at the key. */
function nothingAt(key: Node): Node {
  const node = new Scalar(null);
  node.range = key.range ?? null;
  return node;
}

export class YamlReader {
  constructor(
    readonly source: SourceFile,
    readonly problems: ProblemList,
  ) {}

  report(node: Node | null | undefined, path: string, message: string): void {
    this.problems.add(this.source.positionOf(node), path, message);
  }

  /** Follow `*alias` references so shape checks see the anchored value. */
  resolve(node: Node | null | undefined): Node | null {
    if (node == null) return null;
    if (isAlias(node)) return (node.resolve(this.source.document) as Node | undefined) ?? null;
    return node;
  }

  isNull(node: Node | null): boolean {
    return node === null || (isScalar(node) && node.value === null);
  }

  /**
   * The entries of a mapping, or undefined (after reporting) if `node` is not one. Keys outside
   * `allowed` are reported with a did-you-mean and left out.
   */
  map(node: Node | null, path: string, what: string, allowed?: readonly string[]): MapEntry[] | undefined {
    const resolved = this.resolve(node);
    if (!isMap(resolved)) {
      this.report(node ?? resolved, path, `${what} must be a mapping, found ${describeNode(resolved)}`);
      return undefined;
    }
    const entries: MapEntry[] = [];
    for (const pair of resolved.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== 'string') {
        this.report(
          keyNode ?? resolved,
          path,
          `keys of ${what} must be names, found ${describeNode(keyNode)}`,
        );
        continue;
      }
      const entryPath = childPath(path, key);
      if (allowed !== undefined && !allowed.includes(key)) {
        const expected = allowed.map((k) => `'${k}'`).join(', ');
        this.report(
          keyNode,
          entryPath,
          `unknown key '${key}' in ${what}${didYouMean(key, allowed)} (expected ${expected})`,
        );
        continue;
      }
      entries.push({
        key,
        keyNode: keyNode as Node,
        value: (pair.value as Node | null | undefined) ?? nothingAt(keyNode as Node),
        path: entryPath,
      });
    }
    return entries;
  }

  /** A string scalar with its location, or undefined after reporting. */
  string(node: Node | null, path: string, what: string): StringNode | undefined {
    const resolved = this.resolve(node);
    if (!isScalar(resolved) || typeof resolved.value !== 'string') {
      this.report(node ?? resolved, path, `${what} must be a string, found ${describeNode(resolved)}`);
      return undefined;
    }
    // Through an alias the text lives at the anchor, not here: point at the alias as a whole.
    const start = resolved === node ? this.source.exactValueStart(resolved) : undefined;
    const textPosition = start === undefined ? undefined : this.source.positionAt(start);
    return { text: resolved.value, position: this.source.positionOf(node), path, textPosition };
  }

  /** The items of a list, or undefined after reporting. */
  list(
    node: Node | null,
    path: string,
    what: string,
  ): Array<{ node: Node | null; path: string }> | undefined {
    const resolved = this.resolve(node);
    if (!isSeq(resolved)) {
      this.report(node ?? resolved, path, `${what} must be a list, found ${describeNode(resolved)}`);
      return undefined;
    }
    return resolved.items.map((item, i) => ({
      node: (item as Node | null) ?? null,
      path: childPath(path, i),
    }));
  }

  /** A list of strings; bad items are reported and skipped. */
  stringList(node: Node | null, path: string, what: string): StringNode[] {
    const items = this.list(node, path, what);
    if (items === undefined) return [];
    const out: StringNode[] = [];
    for (const item of items) {
      const s = this.string(item.node, item.path, `each item of ${what}`);
      if (s !== undefined) out.push(s);
    }
    return out;
  }
}
