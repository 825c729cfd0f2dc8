// evaluateAssertion against a scripted engine: engine errors become failures, lookups compare
// as sets, and wildcard answers with exceptions can never match silently.
import { describe, expect, it } from 'vitest';
import type { LookupResourcesPage, LookupSubjectsResult } from '../engine/types.js';
import { InvalidArgumentError } from '../errors.js';
import type {
  CheckAssertion,
  ResourcesLookupAssertion,
  SubjectsLookupAssertion,
} from '../policy/policy-set.js';
import type { AssertionEngine } from './evaluate-assertion.js';
import { evaluateAssertion } from './evaluate-assertion.js';

const position = { file: 't.test.yaml', line: 3, column: 5 };

function engine(overrides: Partial<AssertionEngine>): AssertionEngine {
  const unused = (): never => {
    throw new Error('not scripted');
  };
  return { check: unused, lookupResources: unused, lookupSubjects: unused, ...overrides };
}

const allowedCheck: CheckAssertion = {
  kind: 'allowed',
  check: { resource: { type: 'doc', id: 'd1' }, permission: 'view', subject: { type: 'user', id: 'ann' } },
  source: 'doc:d1#view@user:ann',
  position,
};

function subjectsLookup(expect: string[]): SubjectsLookupAssertion {
  return {
    kind: 'subjects',
    resource: { type: 'doc', id: 'd1' },
    permission: 'view',
    subjectType: 'user',
    expect: expect.map((id) => ({ type: 'user', id })),
    source: 'doc:d1#view@user',
    position,
  };
}

describe('evaluateAssertion', () => {
  it('passes a check whose answer matches and explains one that does not', () => {
    expect(evaluateAssertion(engine({ check: () => true }), allowedCheck)).toBeUndefined();
    expect(evaluateAssertion(engine({ check: () => false }), allowedCheck)).toBe(
      'expected allowed, got denied',
    );
    expect(evaluateAssertion(engine({ check: () => true }), { ...allowedCheck, kind: 'denied' })).toBe(
      'expected denied, got allowed',
    );
  });

  it('turns an engine error into the assertion’s failure message', () => {
    const throwing = engine({
      check: () => {
        throw new InvalidArgumentError("unknown permission 'veiw' on type 'doc'");
      },
    });
    expect(evaluateAssertion(throwing, allowedCheck)).toBe(
      "the engine raised InvalidArgumentError: unknown permission 'veiw' on type 'doc'",
    );
    const crashing = engine({
      check: () => {
        throw new TypeError('cannot read properties of undefined');
      },
    });
    expect(evaluateAssertion(crashing, allowedCheck)).toBe(
      'the engine raised TypeError: cannot read properties of undefined',
    );
  });

  it('reads every page of a resources lookup and compares the set, order ignored', () => {
    const pages: Record<string, LookupResourcesPage> = {
      start: { resourceIds: ['d3', 'd1'], nextCursor: 'p2' },
      p2: { resourceIds: ['d2'] },
    };
    const paged = engine({ lookupResources: (r) => pages[r.cursor ?? 'start']! });
    const lookup: ResourcesLookupAssertion = {
      kind: 'resources',
      resourceType: 'doc',
      permission: 'view',
      subject: { type: 'user', id: 'ann' },
      expect: ['d1', 'd2', 'd3'].map((id) => ({ type: 'doc', id })),
      source: 'doc#view@user:ann',
      position,
    };
    expect(evaluateAssertion(paged, lookup)).toBeUndefined();
    expect(
      evaluateAssertion(paged, {
        ...lookup,
        expect: [
          { type: 'doc', id: 'd1' },
          { type: 'doc', id: 'd9' },
        ],
      }),
    ).toBe(
      'expected [doc:d1, doc:d9], got [doc:d1, doc:d2, doc:d3]; missing [doc:d9]; unexpected [doc:d2, doc:d3]',
    );
  });

  it('expects the wildcard as type:* and refuses a wildcard with exceptions', () => {
    const everyone: LookupSubjectsResult = { subjectIds: [], wildcard: true, excludedIds: [] };
    expect(
      evaluateAssertion(engine({ lookupSubjects: () => everyone }), subjectsLookup(['*'])),
    ).toBeUndefined();
    const allButBob: LookupSubjectsResult = { subjectIds: [], wildcard: true, excludedIds: ['bob'] };
    expect(evaluateAssertion(engine({ lookupSubjects: () => allButBob }), subjectsLookup(['*']))).toBe(
      'expected [user:*], got [user:* except user:bob]; missing [user:*]; unexpected [user:* except user:bob]',
    );
  });
});
