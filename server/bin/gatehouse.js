#!/usr/bin/env node
// The `gatehouse` command as npm links it: runs the compiled CLI, or says how to build it.
// Committed (not built) so that `npm ci` in a fresh clone can link node_modules/.bin/gatehouse:
// npm skips a bin whose target does not exist yet, and `npx gatehouse` would then fetch an
// unrelated public package of that name.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/main.js', import.meta.url);

if (existsSync(cli)) {
  const { main } = await import(cli.href);
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
} else {
  process.stderr.write(
    'gatehouse: the command is not built yet (server/dist/cli/main.js is missing).\n' +
      'Run `npm run build` in the repository root, then run this command again.\n',
  );
  // EXIT_FAILURE of server/src/cli/exit-codes.ts; that module is part of what is missing.
  process.exitCode = 1;
}
