// `gatehouse check DIR TUPLE [--context JSON] [--now RFC3339]`: answer one check against a
// policy directory's relationships and print the answer with its explanation. Exit 0 allowed,
// 2 denied, 3 conditional, 1 error.

import { type CheckRequest, createEngine, formatExplanation } from '../engine/index.js';
import { GatehouseError } from '../errors.js';
import { GraphIndex } from '../graph/index.js';
import type { CheckTuple } from '../model/relationship.js';
import { parseCheckTuple, parseTimestamp } from '../model/relationship.js';
import type { Schema } from '../schema/schema.js';
import { EXIT_CONDITIONAL, EXIT_DENIED, EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import type { CliIo } from './io.js';
import { writeLine } from './io.js';
import { loadPoliciesForCommand } from './load-policies.js';
import { parseCommandArgs } from './parse-command-args.js';
import { CHECK_USAGE, UsageError } from './usage.js';

/** The revision a freshly loaded relationship set is at (as MemoryStore.withRelationships). */
const LOADED_REVISION = 1;

/** `--context` and `--now` (with `=` or as the next argument), taken out of argv. */
function takeValueFlags(argv: readonly string[]): { rest: string[]; values: Map<string, string> } {
  const rest: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--(context|now)(?:=(.*))?$/s.exec(arg);
    if (m === null) {
      rest.push(arg);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`, CHECK_USAGE);
    values.set(m[1]!, value);
  }
  return { rest, values };
}

/** The request facts of `--context` and `--now`; throws Error with a message for the user. */
function requestFacts(values: ReadonlyMap<string, string>): Pick<CheckRequest, 'context' | 'now'> {
  const out: { context?: Record<string, unknown>; now?: number } = {};
  const context = values.get('context');
  if (context !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(context);
    } catch (error) {
      throw new Error(`--context is not JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('--context must be a JSON object such as \'{"ip":"10.1.2.3"}\'');
    out.context = parsed as Record<string, unknown>;
  }
  const now = values.get('now');
  if (now !== undefined) out.now = parseTimestamp(now, 'now');
  return out;
}

export async function runCheck(argv: readonly string[], io: CliIo): Promise<number> {
  const { rest, values } = takeValueFlags(argv);
  const args = parseCommandArgs(rest, ['DIR', 'RESOURCE#PERMISSION@SUBJECT'], CHECK_USAGE);
  if (args.help) {
    writeLine(io.stdout, CHECK_USAGE);
    return EXIT_OK;
  }
  const [dir, input] = args.positionals as [string, string];
  let tuple: CheckTuple;
  let facts: Pick<CheckRequest, 'context' | 'now'>;
  try {
    tuple = parseCheckTuple(input);
    facts = requestFacts(values);
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
    const explanation = createEngine(set.schema, graph).explain({ ...tuple, ...facts });
    // The first line is the verdict alone (`allowed` / `denied` / `conditional`), so scripts can read it.
    writeLine(io.stdout, formatExplanation(explanation));
    if (explanation.permissionship === 'conditional') return EXIT_CONDITIONAL;
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
