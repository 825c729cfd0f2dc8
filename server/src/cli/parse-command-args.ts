// Parses one command's arguments with node:util parseArgs, turning its errors into UsageErrors.
import { parseArgs } from 'node:util';
import { UsageError } from './usage.js';

export interface CommandArgs {
  readonly help: boolean;
  readonly positionals: readonly string[];
}

/**
 * Accept only `--help`/`-h` and exactly `names.length` positionals (unless help is asked for).
 * Throws UsageError naming what is wrong.
 */
export function parseCommandArgs(
  argv: readonly string[],
  names: readonly string[],
  usage: string,
): CommandArgs {
  let parsed: { values: { help?: boolean | undefined }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs explains the problem well ("Unknown option '--x'"); keep its sentence.
    throw new UsageError(error instanceof Error ? error.message : String(error), usage);
  }
  const help = parsed.values.help === true;
  const positionals = parsed.positionals;
  if (!help && positionals.length < names.length) {
    throw new UsageError(`missing ${names.slice(positionals.length).join(' and ')}`, usage);
  }
  if (!help && positionals.length > names.length) {
    const extra = positionals
      .slice(names.length)
      .map((p) => `'${p}'`)
      .join(', ');
    throw new UsageError(`unexpected argument ${extra}`, usage);
  }
  return { help, positionals };
}
