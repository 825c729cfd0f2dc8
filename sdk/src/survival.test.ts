// Nothing the SDK does may crash its host: every call, aborted or failing, in a child under --unhandled-rejections=strict.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectedWhenAborted,
  OPERATION_NAMES,
  outcomesOf,
  runSurvivalChild,
  type SurvivalRun,
} from './test-support/survival.js';

const ERROR_NAMES = new Set([
  'InvalidArgumentError',
  'NotFoundError',
  'AlreadyExistsError',
  'FailedPreconditionError',
  'ResourceExhaustedError',
  'DeadlineExceededError',
  'UnauthenticatedError',
  'PermissionDeniedError',
  'UnavailableError',
  'AbortedError',
  'CancelledError',
  'InternalError',
]);

let run: SurvivalRun;

beforeAll(async () => {
  run = await runSurvivalChild();
}, 150_000);

describe('the SDK under --unhandled-rejections=strict, against fake servers', () => {
  it('leaves the process alive to its end', () => {
    expect({ exitCode: run.exitCode, signal: run.signal, survived: run.survived }, run.stderr).toEqual({
      exitCode: 0,
      signal: null,
      survived: true,
    });
  });

  describe.each([['grpc'], ['http']] as const)('over %s', (kind) => {
    it.each([
      'pre-aborted',
      'pre-aborted unbatched',
      'aborted at once',
      'aborted at once unbatched',
      'aborted mid-flight',
      'aborted mid-flight unbatched',
    ])('rejects every call %s with CancelledError (a watch ends quietly)', (scenario) => {
      expect(outcomesOf(run, scenario, kind)).toEqual(expectedWhenAborted());
    });

    it('rejects only the aborted member of a batch; the others are answered', () => {
      expect(outcomesOf(run, 'aborted in a batch', kind)).toEqual({
        'check (aborted member)': 'CancelledError',
        'check (other members)': 'resolved',
      });
    });

    it('rejects every call with UnavailableError when nothing listens', () => {
      const outcomes = outcomesOf(run, 'unreachable', kind);
      expect(Object.keys(outcomes)).toEqual([...OPERATION_NAMES, 'check racing close']);
      for (const op of OPERATION_NAMES) expect([op, outcomes[op]]).toEqual([op, 'UnavailableError']);
      // A check still queued when close() is called is sent, not dropped as cancelled.
      expect(outcomes['check racing close']).toBe('UnavailableError');
    });

    it('rejects answers it cannot read with a typed error, never a raw one', () => {
      const outcomes = outcomesOf(run, 'malformed answers', kind);
      expect(Object.keys(outcomes)).toEqual([...OPERATION_NAMES, 'check racing close']);
      // Absent fields are proto3 defaults (an empty page is an answer); a decision is never guessed.
      for (const op of ['check', 'checkBatch', 'explain', 'readSchema']) {
        expect([op, outcomes[op]]).toEqual([op, 'InternalError']);
      }
      for (const [op, outcome] of Object.entries(outcomes)) {
        expect([op, outcome === 'resolved' || ERROR_NAMES.has(outcome)]).toEqual([op, true]);
      }
    });

    it('rejects streams whose connection drops after the first message with UnavailableError', () => {
      const outcomes = outcomesOf(run, 'dropped mid-stream', kind);
      expect(outcomes).toMatchObject({
        'lookupResources.toArray': 'UnavailableError',
        'lookupResources.pages': 'UnavailableError',
        watch: 'UnavailableError',
      });
    });
  });

  it('rejects every gRPC call answered with bytes that are no message with InternalError', () => {
    const outcomes = outcomesOf(run, 'garbage bytes', 'grpc');
    for (const op of OPERATION_NAMES) expect([op, outcomes[op]]).toEqual([op, 'InternalError']);
  });
});
