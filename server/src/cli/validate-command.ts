// `gatehouse validate DIR`: compile a policy directory and summarise it, or list every problem.

import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import type { CliIo } from './io.js';
import { writeLine } from './io.js';
import { loadPoliciesForCommand } from './load-policies.js';
import { parseCommandArgs } from './parse-command-args.js';
import { VALIDATE_USAGE } from './usage.js';

export async function runValidate(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(argv, ['DIR'], VALIDATE_USAGE);
  if (args.help) {
    writeLine(io.stdout, VALIDATE_USAGE);
    return EXIT_OK;
  }
  const dir = args.positionals[0]!;
  const set = await loadPoliciesForCommand(dir, io);
  if (set === undefined) return EXIT_FAILURE;
  writeLine(
    io.stdout,
    `ok: ${set.files.length} files, ${set.schema.types.size} types, ${set.relationships.length} relationships`,
  );
  return EXIT_OK;
}
