// Evaluates one check or lookup assertion against an engine and says what differed.
// Depends only on the engine's read questions, so any engine (or a fake) can be tested.

import { formatExplanation } from '../engine/format-explanation.js';
import type { Engine } from '../engine/types.js';
import { formatObject, formatSubject, WILDCARD_ID } from '../model/relationship.js';
import type {
  CheckAssertion,
  LookupAssertion,
  ResourcesLookupAssertion,
  SubjectsLookupAssertion,
} from '../policy/policy-set.js';

/** The engine questions a policy test asks; `explain`, when there, says why a check failed. */
export type AssertionEngine = Pick<Engine, 'check' | 'lookupResources' | 'lookupSubjects'> &
  Partial<Pick<Engine, 'explain' | 'decide'>>;

/** A LookupResources answer longer than this is reported as a runaway rather than paged forever. */
const MAX_LOOKUP_PAGES = 10_000;

/** Undefined when the assertion holds; otherwise a sentence saying what was expected and got. */
export function evaluateAssertion(
  engine: AssertionEngine,
  assertion: CheckAssertion | LookupAssertion,
): string | undefined {
  try {
    switch (assertion.kind) {
      case 'allowed':
      case 'denied':
      case 'conditional':
        return evaluateCheck(engine, assertion);
      case 'resources': {
        const found = lookupResources(engine, assertion);
        return compareLookup(
          found,
          assertion.expect.map(formatObject),
          assertion.conditional?.map(formatObject),
        );
      }
      case 'subjects': {
        const found = lookupSubjects(engine, assertion);
        return compareLookup(
          found,
          assertion.expect.map(formatSubject),
          assertion.conditional?.map(formatSubject),
        );
      }
    }
  } catch (error) {
    // An engine error is this assertion's failure, not the run's: the rest still runs.
    return `the engine raised ${describeError(error)}`;
  }
}

/** `InvalidArgumentError: unknown permission ...`: the class says whose fault it is. */
function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function evaluateCheck(engine: AssertionEngine, assertion: CheckAssertion): string | undefined {
  const request =
    assertion.facts === undefined ? assertion.check : { ...assertion.check, ...assertion.facts };
  // Three answers when the engine gives them; a yes/no Checker answers allowed or denied.
  const decision =
    engine.decide !== undefined
      ? engine.decide(request)
      : { permissionship: engine.check(request) ? 'allowed' : 'denied', missingContext: undefined };
  const got = decision.permissionship;
  const missing = (decision.missingContext ?? []).join(', ');
  if (got === assertion.kind) {
    if (assertion.missing === undefined || assertion.missing.join(', ') === missing) return undefined;
    return `expected conditional missing [${assertion.missing.join(', ')}], got conditional missing [${missing}]`;
  }
  const verdict = `expected ${assertion.kind}, got ${got}${got === 'conditional' ? ` (missing ${missing})` : ''}`;
  // The decision's path, as `gatehouse check` prints it, so the failure says why.
  if (engine.explain === undefined) return verdict;
  return `${verdict}, because:\n${formatExplanation(engine.explain(request)).split('\n').slice(1).join('\n')}`;
}

/** A lookup's answer: the allowed results and the conditional ones, formatted as test files write them. */
interface LookupFound {
  readonly allowed: string[];
  readonly conditional: string[];
}

function lookupResources(engine: AssertionEngine, assertion: ResourcesLookupAssertion): LookupFound {
  const found: LookupFound = { allowed: [], conditional: [] };
  const object = (id: string): string => formatObject({ type: assertion.resourceType, id });
  let cursor: string | undefined;
  for (let page = 0; page < MAX_LOOKUP_PAGES; page++) {
    const result = engine.lookupResources({
      resourceType: assertion.resourceType,
      permission: assertion.permission,
      subject: assertion.subject,
      cursor,
      ...assertion.facts,
    });
    for (const id of result.resourceIds) found.allowed.push(object(id));
    for (const c of result.conditional ?? []) found.conditional.push(object(c.id));
    cursor = result.nextCursor;
    if (cursor === undefined) return found;
  }
  throw new Error(
    `lookup returned more than ${MAX_LOOKUP_PAGES} pages; the engine's cursor does not advance`,
  );
}

function lookupSubjects(engine: AssertionEngine, assertion: SubjectsLookupAssertion): LookupFound {
  const result = engine.lookupSubjects({
    resource: assertion.resource,
    permission: assertion.permission,
    subjectType: assertion.subjectType,
    subjectRelation: assertion.subjectRelation,
    ...assertion.facts,
  });
  const subject = (id: string): string =>
    formatSubject({ type: assertion.subjectType, id, relation: assertion.subjectRelation });
  const found = result.subjectIds.map(subject);
  if (result.wildcard) {
    // "Everyone except these" has no spelling in an expect list, so it can never match
    // silently: it shows up as an unexpected item naming the exceptions.
    const wildcard = `${assertion.subjectType}:${WILDCARD_ID}`;
    found.push(
      result.excludedIds.length === 0
        ? wildcard
        : `${wildcard} except ${result.excludedIds.map(subject).join(', ')}`,
    );
  }
  return { allowed: found, conditional: (result.conditional ?? []).map((c) => subject(c.id)) };
}

/** `expect` must match the allowed results exactly; `conditional`, when given, the conditional ones. */
function compareLookup(
  found: LookupFound,
  expect: readonly string[],
  conditional: readonly string[] | undefined,
): string | undefined {
  const allowed = compareSets(found.allowed, expect);
  if (conditional === undefined) return allowed;
  const undecided = compareSets(found.conditional, conditional);
  if (undecided === undefined) return allowed;
  const what = `conditional: ${undecided}`;
  return allowed === undefined ? what : `${allowed}; ${what}`;
}

function compareSets(actual: readonly string[], expected: readonly string[]): string | undefined {
  const actualSet = new Set(actual);
  const expectedSet = new Set(expected);
  const missing = [...expectedSet].filter((item) => !actualSet.has(item));
  const unexpected = [...actualSet].filter((item) => !expectedSet.has(item));
  if (missing.length === 0 && unexpected.length === 0) return undefined;
  const parts = [`expected ${list([...expectedSet])}, got ${list([...actualSet])}`];
  if (missing.length > 0) parts.push(`missing ${list(missing)}`);
  if (unexpected.length > 0) parts.push(`unexpected ${list(unexpected)}`);
  return parts.join('; ');
}

function list(items: readonly string[]): string {
  return `[${[...items].sort().join(', ')}]`;
}
