// `gatehouse validate DIR [--strict] [--relationships FILE]…`: compile a policy directory and
// summarise it, or list every problem; print warnings; and report the relationships of FILE
// (what a running server stores) that the schema could no longer hold.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatPolicyProblem } from '../errors.js';
import type { Relationship } from '../model/relationship.js';
import { formatRelationship, parseRelationship } from '../model/relationship.js';
import type { Schema } from '../schema/schema.js';
import { explainOrphanedRelationships } from '../schema/validate.js';
import { displayPath } from './display-path.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import type { CliIo } from './io.js';
import { writeLine } from './io.js';
import { loadPoliciesForCommand } from './load-policies.js';
import { UsageError, VALIDATE_USAGE } from './usage.js';

interface ValidateArgs {
  readonly help: boolean;
  readonly strict: boolean;
  readonly dir: string;
  readonly relationshipFiles: readonly string[];
}

function parseValidateArgs(argv: readonly string[]): ValidateArgs {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        strict: { type: 'boolean' },
        relationships: { type: 'string', multiple: true },
      },
      allowPositionals: true,
      strict: true,
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), VALIDATE_USAGE);
  }
  const help = parsed.values.help === true;
  const positionals = parsed.positionals;
  if (!help && positionals.length === 0) throw new UsageError('missing DIR', VALIDATE_USAGE);
  if (!help && positionals.length > 1) {
    throw new UsageError(`unexpected argument '${positionals[1]}'`, VALIDATE_USAGE);
  }
  return {
    help,
    strict: parsed.values.strict === true,
    dir: positionals[0] ?? '',
    relationshipFiles: parsed.values.relationships ?? [],
  };
}

/** One relationship per line; blank lines and `#` comments are skipped. */
async function readStoredRelationships(
  file: string,
  io: CliIo,
): Promise<{ relationship: Relationship; line: number }[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    writeLine(io.stderr, `gatehouse: cannot read relationships file '${file}': ${(error as Error).message}`);
    return undefined;
  }
  const out: { relationship: Relationship; line: number }[] = [];
  let bad = false;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      out.push({ relationship: parseRelationship(line), line: i + 1 });
    } catch (error) {
      writeLine(io.stderr, `${file}:${i + 1}: ${(error as Error).message}`);
      bad = true;
    }
  });
  return bad ? undefined : out;
}

/** Reports every relationship of `files` the schema cannot hold; returns how many there were (or -1 when unreadable). */
async function reportOrphans(schema: Schema, files: readonly string[], io: CliIo): Promise<number> {
  let count = 0;
  for (const file of files) {
    const stored = await readStoredRelationships(file, io);
    if (stored === undefined) return -1;
    const lines = new Map(stored.map((s) => [s.relationship, s.line] as const));
    for (const orphan of explainOrphanedRelationships(
      schema,
      stored.map((s) => s.relationship),
    )) {
      writeLine(
        io.stderr,
        `${file}:${lines.get(orphan.relationship)}: stored relationship '${formatRelationship(orphan.relationship)}' cannot be held by this schema: ${orphan.reason}`,
      );
      count++;
    }
  }
  return count;
}

export async function runValidate(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseValidateArgs(argv);
  if (args.help) {
    writeLine(io.stdout, VALIDATE_USAGE);
    return EXIT_OK;
  }
  const set = await loadPoliciesForCommand(args.dir, io);
  if (set === undefined) return EXIT_FAILURE;
  for (const w of set.warnings) {
    const shown = { ...w, position: { ...w.position, file: displayPath(args.dir, w.position.file) } };
    writeLine(io.stderr, formatPolicyProblem({ ...shown, message: `warning: ${w.message}` }));
  }
  const orphans = await reportOrphans(set.schema, args.relationshipFiles, io);
  if (orphans < 0) return EXIT_FAILURE;
  if (orphans > 0) {
    writeLine(
      io.stderr,
      `${orphans} stored relationship${orphans === 1 ? '' : 's'} cannot be held by the schema in ${args.dir}; delete them or keep the schema able to hold them`,
    );
    return EXIT_FAILURE;
  }
  if (args.strict && set.warnings.length > 0) {
    const n = set.warnings.length;
    writeLine(io.stderr, `${n} warning${n === 1 ? '' : 's'} in ${args.dir} (--strict makes warnings errors)`);
    return EXIT_FAILURE;
  }
  const warned = set.warnings.length === 0 ? '' : `, ${set.warnings.length} warnings`;
  writeLine(
    io.stdout,
    `ok: ${set.files.length} files, ${set.schema.types.size} types, ${set.relationships.length} relationships${warned}`,
  );
  return EXIT_OK;
}
