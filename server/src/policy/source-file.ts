// One policy file's text and line table: turns yaml node ranges and offsets inside scalar
// strings into 1-based file:line:column positions.

import type { Document, Node } from 'yaml';
import { isScalar, LineCounter, parseDocument, Scalar } from 'yaml';
import type { SourcePosition } from '../errors.js';

export class SourceFile {
  readonly path: string;
  readonly text: string;
  private readonly lines: LineCounter;
  /** The parsed document; yaml syntax errors are in `document.errors`. */
  readonly document: Document.Parsed;

  constructor(path: string, text: string) {
    this.path = path;
    this.text = text;
    this.lines = new LineCounter();
    // prettyErrors off: we render positions ourselves, in the same format as every other problem.
    this.document = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** Position of a character offset in the file. */
  positionAt(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { file: this.path, line, column: col };
  }

  /** Position of a node's first character; the file start for nodes without a range. */
  positionOf(node: Node | null | undefined): SourcePosition {
    return this.positionAt(node?.range?.[0] ?? 0);
  }

  /**
   * Position of character `index` of a string scalar's value. Exact when the source text of the
   * scalar is the value itself (a plain single-line scalar, or a quoted one without escapes);
   * otherwise the scalar's start, since folding and escapes break the offset correspondence.
   */
  positionInScalar(node: Node, index: number): SourcePosition {
    const start = node.range?.[0] ?? 0;
    if (!isScalar(node) || typeof node.value !== 'string' || node.range == null)
      return this.positionAt(start);
    const raw = this.text.slice(node.range[0], node.range[1]);
    const value = node.value;
    if (node.type === Scalar.PLAIN && raw === value) return this.positionAt(start + index);
    const quote =
      node.type === Scalar.QUOTE_SINGLE ? "'" : node.type === Scalar.QUOTE_DOUBLE ? '"' : undefined;
    if (quote !== undefined && raw === `${quote}${value}${quote}`) return this.positionAt(start + 1 + index);
    return this.positionAt(start);
  }
}
