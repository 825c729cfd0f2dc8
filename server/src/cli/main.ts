#!/usr/bin/env node
// The `gatehouse` command line: dispatches to serve, validate, test and check. `main` runs
// in-process for tests; the entry at the bottom runs it when this file is the program.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import type { CliIo } from './io.js';
import { writeLine } from './io.js';
import { MAIN_USAGE, UsageError } from './usage.js';

type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  // Each loaded on demand: validate/test/check should not pay for gRPC and HTTP servers, nor a
  // long-running `serve` keep the test runner, the reference evaluator and the importers resident.
  serve: async (argv) => (await import('./serve.js')).runServe(argv),
  validate: async (argv, io) => (await import('./validate-command.js')).runValidate(argv, io),
  test: async (argv, io) => (await import('./test-command.js')).runTest(argv, io),
  check: async (argv, io) => (await import('./check-command.js')).runCheck(argv, io),
  import: async (argv, io) => (await import('./interop-commands.js')).runImport(argv, io),
  export: async (argv, io) => (await import('./interop-commands.js')).runExport(argv, io),
};

/** Run `gatehouse` with `argv` (the arguments after the program name); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined) throw new UsageError('missing command', MAIN_USAGE);
    if (first === '--help' || first === '-h' || first === 'help') {
      writeLine(io.stdout, MAIN_USAGE);
      return EXIT_OK;
    }
    if (first === '--version' || first === '-V') {
      writeLine(io.stdout, readVersion());
      return EXIT_OK;
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option '${first}'`, MAIN_USAGE);
    const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (command === undefined) {
      throw new UsageError(
        `unknown command '${first}'; commands are ${Object.keys(COMMANDS).join(', ')}`,
        MAIN_USAGE,
      );
    }
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      writeLine(io.stderr, `gatehouse: ${error.message}`);
      writeLine(io.stderr);
      writeLine(io.stderr, error.usage);
      return EXIT_USAGE;
    }
    writeLine(
      io.stderr,
      `gatehouse: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return EXIT_FAILURE;
  }
}

/** The server package's version: `../../package.json` from both src/cli and dist/cli. */
function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** True when Node was started on this file (directly or through the npm bin symlink). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
