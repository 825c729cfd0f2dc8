// Renders a policy test report as the lines `gatehouse test` prints.
import type { PolicyTestFileResult, PolicyTestReport } from '../testing/report.js';
import { displayPath } from './display-path.js';

/**
 * One line per file, each failure indented under it, and the `N passed, M failed` total last.
 * Paths are shown under `root`, the policy directory as the user typed it.
 */
export function formatTestReport(report: PolicyTestReport, root: string): string[] {
  const lines: string[] = [];
  for (const file of report.files) lines.push(...formatFile(file, root));
  lines.push(`${report.passed} passed, ${report.failed} failed`);
  return lines;
}

function formatFile(file: PolicyTestFileResult, root: string): string[] {
  const ok = file.failures.length === 0 && file.notRun === 0;
  const checks = `${file.checks} check${file.checks === 1 ? '' : 's'}`;
  const lines = [`${ok ? 'PASS' : 'FAIL'} ${displayPath(root, file.path)} — ${file.name} (${checks})`];
  for (const f of file.failures) {
    lines.push(`  ${displayPath(root, f.position.file)}:${f.position.line}: ${f.source}`);
    // Multi-line messages (a failed check's explanation) stay indented under their failure.
    for (const line of f.message.split('\n')) lines.push(`    ${line}`);
  }
  if (file.notRun > 0) lines.push(`  ${file.notRun} later check${file.notRun === 1 ? '' : 's'} not run`);
  return lines;
}
