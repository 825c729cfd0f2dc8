// `gatehouse test DIR`: run a policy directory's test files and print the report.

import { reportPassed } from '../testing/report.js';
import { runPolicyTests } from '../testing/run-policy-tests.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import { formatTestReport } from './format-test-report.js';
import type { CliIo } from './io.js';
import { writeLine } from './io.js';
import { loadPoliciesForCommand } from './load-policies.js';
import { parseCommandArgs } from './parse-command-args.js';
import { TEST_USAGE } from './usage.js';

export async function runTest(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs(argv, ['DIR'], TEST_USAGE);
  if (args.help) {
    writeLine(io.stdout, TEST_USAGE);
    return EXIT_OK;
  }
  const dir = args.positionals[0]!;
  const set = await loadPoliciesForCommand(dir, io);
  if (set === undefined) return EXIT_FAILURE;
  if (set.tests.length === 0) {
    // A CI job pointed at the wrong directory must not pass by testing nothing.
    writeLine(io.stderr, `gatehouse: no test files (kind: test) under '${dir}'`);
    return EXIT_FAILURE;
  }
  const report = await runPolicyTests(set);
  for (const line of formatTestReport(report, dir)) writeLine(io.stdout, line);
  return reportPassed(report) ? EXIT_OK : EXIT_FAILURE;
}
