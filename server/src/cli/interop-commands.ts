// `gatehouse import openfga|spicedb SOURCE --out DIR` and `gatehouse export openfga|spicedb
// DIR`: bring a model (with its tuples and assertions) from OpenFGA or SpiceDB into a policy
// directory, listing everything that could not be imported; and write a policy directory's
// schema in their languages.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPolicyProblem, PolicyError } from '../errors.js';
import { exportOpenFga, exportSpiceDb, NotExportableError } from '../interop/export.js';
import type { ImportResult } from '../interop/import.js';
import { importOpenFga, importSpiceDb, parseOpenFgaTuples } from '../interop/import.js';
import { compilePolicySet } from '../policy/compile-policy-set.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import type { CliIo } from './io.js';
import { writeLine } from './io.js';
import { loadPoliciesForCommand } from './load-policies.js';
import { EXPORT_USAGE, IMPORT_USAGE, UsageError } from './usage.js';

interface ParsedArgs {
  readonly values: { readonly help?: boolean; readonly out?: string; readonly tuples?: string };
  readonly positionals: readonly string[];
}

/** `--help`, `--out DIR`, `--tuples FILE` and positionals; `--out`/`--tuples` only where `withPaths`. */
function parse(argv: readonly string[], usage: string, withPaths: boolean): ParsedArgs {
  try {
    return parseArgs({
      args: [...argv],
      options: withPaths
        ? { help: { type: 'boolean', short: 'h' }, out: { type: 'string' }, tuples: { type: 'string' } }
        : { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as ParsedArgs;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), usage);
  }
}

export async function runImport(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parse(argv, IMPORT_USAGE, true);
  if (args.values.help === true) {
    writeLine(io.stdout, IMPORT_USAGE);
    return EXIT_OK;
  }
  const [system, source, ...extra] = args.positionals;
  if (system !== 'openfga' && system !== 'spicedb') {
    throw new UsageError(
      system === undefined
        ? 'missing SYSTEM (openfga or spicedb)'
        : `unknown system '${system}'; use openfga or spicedb`,
      IMPORT_USAGE,
    );
  }
  if (source === undefined) throw new UsageError('missing SOURCE', IMPORT_USAGE);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, IMPORT_USAGE);
  const out = args.values.out;
  if (typeof out !== 'string') throw new UsageError('missing --out DIR', IMPORT_USAGE);
  if (system === 'spicedb' && args.values.tuples !== undefined) {
    throw new UsageError(
      '--tuples is for openfga; a SpiceDB validation file carries its relationships',
      IMPORT_USAGE,
    );
  }
  let result: ImportResult;
  try {
    const text = await readFile(source, 'utf8');
    if (system === 'openfga') {
      const tuples =
        typeof args.values.tuples === 'string'
          ? parseOpenFgaTuples(await readFile(args.values.tuples, 'utf8'))
          : [];
      result = importOpenFga(text, tuples, source);
    } else {
      const validationFile = /\.ya?ml$/i.test(source) || /^\s*schema\s*:/m.test(text);
      result = importSpiceDb(text, source, validationFile);
    }
  } catch (error) {
    writeLine(io.stderr, `gatehouse: cannot import '${source}': ${(error as Error).message}`);
    return EXIT_FAILURE;
  }
  try {
    compilePolicySet(result.files);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    for (const p of error.problems) writeLine(io.stderr, formatPolicyProblem(p));
    writeLine(io.stderr, `gatehouse: the imported policy does not compile; nothing was written to ${out}`);
    return EXIT_FAILURE;
  }
  const clash = result.files.find((f) => existsSync(join(out, f.path)));
  if (clash !== undefined) {
    writeLine(
      io.stderr,
      `gatehouse: ${join(out, clash.path)} exists; choose an empty --out directory (nothing was written)`,
    );
    return EXIT_FAILURE;
  }
  await mkdir(out, { recursive: true });
  for (const f of result.files) await writeFile(join(out, f.path), f.content, { flag: 'wx' });
  for (const u of result.unsupported)
    writeLine(io.stderr, `not imported: ${u.feature} at ${u.where}: ${u.detail}`);
  writeLine(
    io.stdout,
    `imported ${source} into ${out}: ${result.files.map((f) => f.path).join(', ')}${result.unsupported.length > 0 ? ` (${result.unsupported.length} constructs not imported, listed above and in the schema file's header)` : ''}`,
  );
  return EXIT_OK;
}

export async function runExport(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parse(argv, EXPORT_USAGE, false);
  if (args.values.help === true) {
    writeLine(io.stdout, EXPORT_USAGE);
    return EXIT_OK;
  }
  const [system, dir, ...extra] = args.positionals;
  if (system !== 'openfga' && system !== 'spicedb') {
    throw new UsageError(
      system === undefined
        ? 'missing SYSTEM (openfga or spicedb)'
        : `unknown system '${system}'; use openfga or spicedb`,
      EXPORT_USAGE,
    );
  }
  if (dir === undefined) throw new UsageError('missing DIR', EXPORT_USAGE);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, EXPORT_USAGE);
  const set = await loadPoliciesForCommand(dir, io);
  if (set === undefined) return EXIT_FAILURE;
  let text: string;
  try {
    text = system === 'openfga' ? exportOpenFga(set.schema) : exportSpiceDb(set.schema);
  } catch (error) {
    if (!(error instanceof NotExportableError)) throw error;
    writeLine(io.stderr, `gatehouse: cannot export '${dir}' to ${system}: ${error.message}`);
    return EXIT_FAILURE;
  }
  io.stdout.write(text);
  return EXIT_OK;
}
