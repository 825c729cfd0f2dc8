// Runs every test file of a policy set: fixtures, assertions, lookups, then steps in order,
// each file in its own fresh world, collecting every failure with its file:line.
import type { SourcePosition } from '../errors.js';
import type {
  CheckAssertion,
  LookupAssertion,
  PolicySet,
  PolicyTestFile,
  TestStep,
} from '../policy/policy-set.js';
import { evaluateAssertion } from './evaluate-assertion.js';
import type { PolicyTestFailure, PolicyTestFileResult, PolicyTestReport } from './report.js';
import { PolicyTestWorld } from './test-world.js';

/**
 * Run every test file of `policySet`. Never throws for a failing or erroring assertion: those
 * are failures in the report. Asynchronous only because the store's API is.
 */
export async function runPolicyTests(policySet: PolicySet): Promise<PolicyTestReport> {
  const files: PolicyTestFileResult[] = [];
  for (const test of policySet.tests) files.push(await runTestFile(policySet, test));
  const passed = files.reduce((sum, f) => sum + f.passed, 0);
  const failed = files.reduce((sum, f) => sum + f.failures.length, 0);
  return { files, passed, failed };
}

type Assertion = CheckAssertion | LookupAssertion;

function isAssertion(step: TestStep): step is Assertion {
  return (
    step.kind === 'allowed' ||
    step.kind === 'denied' ||
    step.kind === 'conditional' ||
    step.kind === 'resources' ||
    step.kind === 'subjects'
  );
}

async function runTestFile(policySet: PolicySet, test: PolicyTestFile): Promise<PolicyTestFileResult> {
  const tally = new Tally();
  const fixtures = [...policySet.relationships, ...test.relationships].map((r) => r.relationship);
  let world: PolicyTestWorld;
  try {
    world = await PolicyTestWorld.create(policySet.schema, fixtures);
  } catch (error) {
    const position = test.relationships[0]?.position ?? { file: test.path, line: 1, column: 1 };
    tally.fail(position, 'relationships', `could not load the fixtures: ${messageOf(error)}`);
    const planned = test.assertions.length + test.lookups.length + test.steps.filter(isAssertion).length;
    return tally.result(test, planned);
  }
  try {
    for (const assertion of [...test.assertions, ...test.lookups]) {
      tally.record(assertion, evaluateAssertion(world.engine, assertion));
    }
    for (const [index, step] of test.steps.entries()) {
      if (isAssertion(step)) {
        tally.record(step, evaluateAssertion(world.engine, step));
        continue;
      }
      const error = await runMutation(world, step);
      if (error !== undefined) {
        // Later assertions would describe a state the test never meant to reach.
        tally.fail(step.position, step.kind, `step failed: ${error}`);
        return tally.result(test, test.steps.slice(index + 1).filter(isAssertion).length);
      }
    }
    return tally.result(test, 0);
  } finally {
    await world.close();
  }
}

type Mutation = Exclude<TestStep, Assertion>;

/** Undefined on success, else the error's message. */
async function runMutation(world: PolicyTestWorld, step: Mutation): Promise<string | undefined> {
  try {
    switch (step.kind) {
      case 'write':
        await world.write(step.relationships.map((r) => r.relationship));
        return undefined;
      case 'delete':
        await world.delete(step.relationships.map((r) => r.relationship));
        return undefined;
      case 'delete_object':
        await world.deleteObject(step.object);
        return undefined;
    }
  } catch (error) {
    return messageOf(error);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Counts checks and collects failures for one file. */
class Tally {
  private checks = 0;
  private passed = 0;
  private readonly failures: PolicyTestFailure[] = [];

  record(assertion: Assertion, failure: string | undefined): void {
    this.checks++;
    if (failure === undefined) this.passed++;
    else
      this.failures.push({
        position: assertion.position,
        source: `${assertion.kind}: ${assertion.source}`,
        message: failure,
      });
  }

  fail(position: SourcePosition, source: string, message: string): void {
    this.failures.push({ position, source, message });
  }

  result(test: PolicyTestFile, notRun: number): PolicyTestFileResult {
    return {
      path: test.path,
      name: test.name,
      checks: this.checks,
      passed: this.passed,
      failures: this.failures,
      notRun,
    };
  }
}
