// `gatehouse serve`: builds the config, loads policies and runs the gRPC and HTTP servers.
// First landing: a placeholder so `cli/main.ts` compiles; the real command follows shortly.

/** Run `gatehouse serve` with the arguments after `serve`; resolves to the process exit code. */
export async function runServe(argv: readonly string[]): Promise<number> {
  process.stderr.write(`gatehouse serve: not available in this build yet (args: ${argv.join(' ')})\n`);
  return 1;
}
