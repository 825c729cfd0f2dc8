// One policy file's text and line table: turns yaml node ranges and offsets inside scalar
// strings into 1-based file:line:column positions.

import type { Document, Node } from 'yaml';
import { isScalar, parseDocument, Scalar } from 'yaml';
import type { SourcePosition } from '../errors.js';

export class SourceFile {
  readonly path: string;
  readonly text: string;
  /** Offset of the first character of each line. */
  private readonly lineStarts: number[];
  /** The parsed document; yaml syntax errors are in `document.errors`. */
  readonly document: Document.Parsed;

  constructor(path: string, text: string) {
    this.path = path;
    this.text = text;
    // Our own line table rather than yaml's LineCounter: the parser registers line starts as it
    // lexes, and stops registering them after some syntax errors, which put positions past
    // the end of a line (found by test/policy/compiler-robustness.test.ts).
    this.lineStarts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
    // prettyErrors off: we render positions ourselves, in the same format as every other problem.
    this.document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  }

  /** Position of a character offset in the file. */
  positionAt(offset: number): SourcePosition {
    const at = Math.max(0, Math.min(offset, this.text.length));
    // The last line starting at or before `at`.
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.path, line: lo + 1, column: at - this.lineStarts[lo]! + 1 };
  }

  /** Position of a node's first character; the file start for nodes without a range. */
  positionOf(node: Node | null | undefined): SourcePosition {
    return this.positionAt(node?.range?.[0] ?? 0);
  }

  /**
   * Offset in the file of character 0 of a string scalar's value, when every character of the
   * value sits at its own column after it: a plain single-line scalar, or a quoted one without
   * escapes. Undefined otherwise, since folding and escapes break the correspondence.
   */
  exactValueStart(node: Node): number | undefined {
    if (!isScalar(node) || typeof node.value !== 'string' || node.range == null) return undefined;
    const start = node.range[0];
    const raw = this.text.slice(start, node.range[1]);
    const value = node.value;
    if (node.type === Scalar.PLAIN && raw === value) return start;
    const quote =
      node.type === Scalar.QUOTE_SINGLE ? "'" : node.type === Scalar.QUOTE_DOUBLE ? '"' : undefined;
    if (quote !== undefined && raw === `${quote}${value}${quote}`) return start + 1;
    return undefined;
  }

  /** Position of character `index` of a string scalar's value; the scalar's start when not exact. */
  positionInScalar(node: Node, index: number): SourcePosition {
    const start = this.exactValueStart(node);
    return start === undefined ? this.positionOf(node) : this.positionAt(start + index);
  }
}
