// The policy test runner's public surface: run a policy set's test files, read the report.
export type { AssertionEngine } from './evaluate-assertion.js';
export { evaluateAssertion } from './evaluate-assertion.js';
export type { PolicyTestFailure, PolicyTestFileResult, PolicyTestReport } from './report.js';
export { reportPassed } from './report.js';
export { runPolicyTests } from './run-policy-tests.js';
