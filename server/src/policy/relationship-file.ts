// Bulk relationship files (`kind: relationships` with `file: data.txt|.ndjson|.csv`): read line
// by line and resolved in chunks, so millions of relationships load without a document tree,
// and every bad line is reported as file:line:column like any other policy problem.
import { createReadStream } from 'node:fs';
import { join, posix } from 'node:path';
import type { PolicyProblem, SourcePosition } from '../errors.js';
import { PolicyError } from '../errors.js';
import type { Relationship } from '../model/relationship.js';
import { parseRelationship } from '../model/relationship.js';
import { validateRelationship } from '../schema/validate.js';
import { KnownShapes } from './known-shapes.js';
import { lineBatches } from './line-batches.js';
import type { PolicySet, PositionedRelationship, RelationshipFileRef } from './policy-set.js';
import { ProblemList } from './problem-list.js';
import { StringResolver } from './resolve-strings.js';

/** How each line holds its relationship string. */
export type RelationshipFileFormat = 'lines' | 'ndjson' | 'csv';

const FORMATS: Readonly<Record<string, RelationshipFileFormat>> = {
  '.txt': 'lines',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.csv': 'csv',
};

/** The extensions a bulk relationship file may have (what a policy watcher must react to). */
export const RELATIONSHIP_FILE_EXTENSIONS: readonly string[] = Object.keys(FORMATS);

/** Stands in for the position of a relationship loaded without one (see streamFile's fast path). */
const NO_POSITION: SourcePosition = Object.freeze({ file: '', line: 0, column: 0 });

/**
 * Relationships per chunk handed to the loader. Small: a chunk's objects live across awaits, and
 * 10 000 of them outlived young-generation collections (copied, then promoted); at 1 000 they die
 * young (1M relationships: start-up CPU 5.3 -> 4.0 s, peak RSS 250 -> 210 MB in footprint-stages).
 */
export const DEFAULT_RELATIONSHIP_CHUNK = 1_000;
/** Bytes read at a time: lines are split a chunk at a time, so fewer, larger chunks cost less. */
const READ_CHUNK_BYTES = 1 << 18;
/** Problems reported before a file is given up on: a wrong file should not print a million lines. */
const MAX_PROBLEMS = 100;

/** The format of `file`, by its extension, or undefined. */
export function relationshipFileFormat(file: string): RelationshipFileFormat | undefined {
  const dot = file.lastIndexOf('.');
  return dot < 0 ? undefined : FORMATS[file.slice(dot).toLowerCase()];
}

/** What is wrong with a `file:` value, or undefined: a relative path inside the policy directory. */
export function relationshipFileProblem(file: string): string | undefined {
  if (file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file) || file.split(/[\\/]/).includes('..')) {
    return `'file' must be a path inside the policy directory, relative to this file, without '..'; got '${file}'`;
  }
  if (relationshipFileFormat(file) === undefined) {
    return `'file' must name a .txt (one relationship per line), .ndjson/.jsonl (one JSON string per line) or .csv (one column) file; got '${file}'`;
  }
  return undefined;
}

/** The relationship string on one line, where it starts, and whether its characters map 1:1 to columns. */
interface LineText {
  readonly text: string;
  readonly column: number;
  readonly exact: boolean;
}

/** The relationship on `raw`, undefined for a line to skip, or a string saying what is wrong. */
function lineText(format: RelationshipFileFormat, raw: string, line: number): LineText | undefined | string {
  const text = raw.trim();
  if (text === '') return undefined;
  const column = raw.length - raw.trimStart().length + 1;
  switch (format) {
    case 'lines':
      return text.startsWith('#') ? undefined : { text, column, exact: true };
    case 'ndjson': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return 'each line of an .ndjson file must be a JSON string such as "doc:1#viewer@user:ana"';
      }
      if (typeof value !== 'string') {
        return 'each line of an .ndjson file must be a JSON string such as "doc:1#viewer@user:ana"';
      }
      return { text: value, column: column + 1, exact: !text.includes('\\') };
    }
    case 'csv': {
      if (line === 1 && text.toLowerCase() === 'relationship') return undefined;
      if (!text.startsWith('"')) {
        return text.includes(',')
          ? 'a .csv relationship file has one column: quote a value that contains a comma'
          : { text, column, exact: true };
      }
      if (!text.endsWith('"') || text.length < 2 || /(?<!")"(?!")/.test(text.slice(1, -1))) {
        return 'a .csv relationship file has one column: a quoted value must end the line';
      }
      const inner = text.slice(1, -1);
      return { text: inner.replaceAll('""', '"'), column: column + 1, exact: !inner.includes('""') };
    }
  }
}

/** Whether `raw` is a .txt line that starts and ends with printable ASCII, and is no comment: trim would keep it whole. */
function plainLine(format: RelationshipFileFormat, raw: string): boolean {
  if (format !== 'lines') return false;
  const first = raw.charCodeAt(0);
  const last = raw.charCodeAt(raw.length - 1);
  return first > 32 && first < 127 && first !== 35 /* '#' */ && last > 32 && last < 127;
}

/** The bulk file's display path (relative to the policy root) and its path on disk. */
function locate(root: string, ref: RelationshipFileRef): { display: string; absolute: string } {
  const display = posix.normalize(posix.join(posix.dirname(ref.policyFile), ref.file.replaceAll('\\', '/')));
  return { display, absolute: join(root, ...display.split('/')) };
}

/**
 * The relationships of one bulk file, resolved against `set.schema`, `chunkSize` at a time.
 * Reads the file as a stream of lines; at the end (or after MAX_PROBLEMS) throws one
 * PolicyError naming each bad line as file:line:column, so a caller must treat what it was
 * already given as provisional until the generator finishes.
 */
async function* streamFile(
  set: PolicySet,
  ref: RelationshipFileRef,
  chunkSize: number,
  positions: boolean,
): AsyncGenerator<PositionedRelationship[]> {
  // Without a namespace a string needs no qualifying; positions are wanted only by the dev commands.
  const fast = !positions && ref.namespace === undefined;
  const problems = new ProblemList();
  if (set.root === undefined) {
    problems.add(ref.position, '$.file', 'relationship files need a policy directory to be resolved in');
    problems.throwIfAny();
    return;
  }
  const { display, absolute } = locate(set.root, ref);
  const format = relationshipFileFormat(ref.file)!;
  const resolver = new StringResolver(set.schema, ref.namespace, problems);
  const input = createReadStream(absolute, { encoding: 'utf8', highWaterMark: READ_CHUNK_BYTES });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    problems.add(ref.position, '$.file', `cannot read relationship file '${display}' (${reason})`);
    problems.throwIfAny();
  }
  let chunk: PositionedRelationship[] = [];
  let line = 0;
  const shapes = new KnownShapes();
  const quick = (text: string): Relationship | undefined => {
    const known = shapes.read(text);
    if (known !== undefined) return known;
    try {
      const r = parseRelationship(text);
      validateRelationship(set.schema, r);
      shapes.remember(r);
      return r;
    } catch {
      return undefined;
    }
  };
  try {
    reading: for await (const batch of lineBatches(input)) {
      for (const raw of batch) {
        line++;
        // A plain line with nothing to trim is its own text (most lines of a .txt file): no
        // trimming, no LineText. Anything else, or a line that fails, takes the general path.
        const plain = plainLine(format, raw);
        const r = fast && plain ? quick(raw) : undefined;
        if (r !== undefined) {
          if (problems.size === 0) {
            chunk.push({ relationship: r, position: NO_POSITION });
            if (chunk.length >= chunkSize) {
              yield chunk;
              chunk = [];
            }
          }
          continue;
        }
        const found = lineText(format, raw, line);
        if (found === undefined) continue;
        if (typeof found === 'string') {
          problems.add({ file: display, line, column: 1 }, '$', found);
        } else if (fast) {
          // The common case, a valid line: no position objects. A line that fails is resolved
          // again through the resolver, which says where and why.
          const r = quick(found.text);
          if (r !== undefined) {
            if (problems.size === 0) {
              chunk.push({ relationship: r, position: NO_POSITION });
              if (chunk.length >= chunkSize) {
                yield chunk;
                chunk = [];
              }
            }
            continue;
          }
        }
        if (typeof found !== 'string') {
          const r = resolver.relationship({
            text: found.text,
            position: { file: display, line, column: found.column },
            path: '$',
            textPosition: found.exact ? { file: display, line, column: found.column } : undefined,
          });
          if (r !== undefined && problems.size === 0) {
            chunk.push(r);
            if (chunk.length >= chunkSize) {
              yield chunk;
              chunk = [];
            }
          }
        }
        if (problems.size >= MAX_PROBLEMS) break reading;
      }
    }
  } finally {
    input.destroy();
  }
  if (problems.size > 0) throw new PolicyError(problems.problems);
  if (chunk.length > 0) yield chunk;
}

/**
 * Every relationship the policy set declares: its inline lists, then each bulk file streamed,
 * in chunks of at most `chunkSize`. Throws PolicyError (file:line:column) on a bad line.
 */
export async function* policyRelationshipChunks(
  set: PolicySet,
  chunkSize = DEFAULT_RELATIONSHIP_CHUNK,
): AsyncGenerator<Relationship[]> {
  for (let i = 0; i < set.relationships.length; i += chunkSize) {
    yield set.relationships.slice(i, i + chunkSize).map((r) => r.relationship);
  }
  // After a bad file the others are still read, for their problems only: one run reports all.
  const problems: PolicyProblem[] = [];
  for (const ref of set.relationshipFiles ?? []) {
    try {
      for await (const chunk of streamFile(set, ref, chunkSize, false)) {
        if (problems.length === 0) yield chunk.map((r) => r.relationship);
      }
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length > 0) throw new PolicyError(problems);
}

/**
 * The set with its bulk files read into `relationships` (positions kept): for the commands
 * that want every relationship at hand (`gatehouse test`, `check`, `validate`), not for serve.
 */
export async function withRelationshipFiles(set: PolicySet): Promise<PolicySet> {
  if ((set.relationshipFiles ?? []).length === 0) return set;
  const relationships = [...set.relationships];
  for (const ref of set.relationshipFiles ?? []) {
    for await (const chunk of streamFile(set, ref, DEFAULT_RELATIONSHIP_CHUNK, true)) {
      for (const r of chunk) relationships.push(r);
    }
  }
  return { ...set, relationships, relationshipFiles: [] };
}
