// The policy test runner's result types: what passed, what failed, and where it is written.
import type { SourcePosition } from '../errors.js';

/** One assertion that did not hold, or a step that could not run. */
export interface PolicyTestFailure {
  /** Where the assertion or step is written. */
  readonly position: SourcePosition;
  /** The assertion as written, e.g. `allowed: contact:p1#view@user:mike`. */
  readonly source: string;
  /** Expected versus actual, or the error the engine raised. */
  readonly message: string;
}

/** The outcome of one `kind: test` file. */
export interface PolicyTestFileResult {
  readonly path: string;
  readonly name: string;
  /** Checks and lookups evaluated (write/delete steps are not counted). */
  readonly checks: number;
  readonly passed: number;
  /** In file order. A failed write/delete step is one failure and stops the file. */
  readonly failures: readonly PolicyTestFailure[];
  /** Checks and lookups that did not run because an earlier step failed. */
  readonly notRun: number;
}

export interface PolicyTestReport {
  /** In the policy set's file order. */
  readonly files: readonly PolicyTestFileResult[];
  /** Totals over every file: assertions (checks and lookups) that held and that did not. */
  readonly passed: number;
  readonly failed: number;
}

/** True when every file passed and nothing was skipped. */
export function reportPassed(report: PolicyTestReport): boolean {
  return report.failed === 0 && report.files.every((f) => f.notRun === 0);
}
