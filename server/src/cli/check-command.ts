// `gatehouse check DIR TUPLE`: answer one check against a policy directory's relationships
// and print the answer with its explanation. Exit 0 allowed, 2 denied, 1 error.

import { createEngine, formatExplanation } from '../engine/index.js';
import { GatehouseError } from '../errors.js';
import { GraphIndex } from '../graph/index.js';
import type { CheckTuple } from '../model/relationship.js';
import { parseCheckTuple } from '../model/relationship.js';
import type { Schema } from '../schema/schema.js';
import { EXIT_DENIED, EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import type { CliIo } from './io.js';
import { writeLine } from './io.js';
import { loadPoliciesForCommand } from './load-policies.js';
import { parseCommandArgs } from './parse-command-args.js';
import { CHECK_USAGE } from './usage.js';

/** The revision a freshly loaded relationship set is at (as MemoryStore.withRelationships). */
const LOADED_REVISION = 1;

export async function runCheck(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(argv, ['DIR', 'RESOURCE#PERMISSION@SUBJECT'], CHECK_USAGE);
  if (args.help) {
    writeLine(io.stdout, CHECK_USAGE);
    return EXIT_OK;
  }
  const [dir, input] = args.positionals as [string, string];
  let tuple: CheckTuple;
  try {
    tuple = parseCheckTuple(input);
  } catch (error) {
    writeLine(io.stderr, `gatehouse: ${(error as Error).message}`);
    return EXIT_FAILURE;
  }
  const set = await loadPoliciesForCommand(dir, io);
  if (set === undefined) return EXIT_FAILURE;
  const unknown = unknownTypeProblem(set.schema, tuple);
  if (unknown !== undefined) {
    writeLine(io.stderr, `gatehouse: ${unknown}`);
    return EXIT_FAILURE;
  }
  const graph = GraphIndex.build(
    set.schema,
    set.relationships.map((r) => r.relationship),
    LOADED_REVISION,
  );
  try {
    const explanation = createEngine(set.schema, graph).explain(tuple);
    // The first line is the verdict alone (`allowed` / `denied`), so scripts can read it.
    writeLine(io.stdout, formatExplanation(explanation));
    return explanation.allowed ? EXIT_OK : EXIT_DENIED;
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw error;
    writeLine(io.stderr, `gatehouse: ${error.message}`);
    return EXIT_FAILURE;
  }
}

/**
 * The engine would reject an unknown type too, but here the usual cause is a missing
 * namespace prefix, so say which namespaced type was probably meant.
 */
function unknownTypeProblem(schema: Schema, tuple: CheckTuple): string | undefined {
  for (const [role, type] of [
    ['resource', tuple.resource.type],
    ['subject', tuple.subject.type],
  ] as const) {
    if (schema.types.has(type)) continue;
    const candidates = [...schema.types.keys()].filter((name) => name.endsWith(`/${type}`));
    const hint =
      candidates.length > 0
        ? `; types of namespaced files are written in full: did you mean ${candidates.map((c) => `'${c}'`).join(' or ')}?`
        : '; run `gatehouse validate DIR` to list what the policies declare';
    return `unknown ${role} type '${type}'${hint}`;
  }
  return undefined;
}
