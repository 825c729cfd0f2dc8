// End-to-end: every SDK call with aborted signals against a real `gatehouse serve`, in a child under --unhandled-rejections=strict.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedWhenAborted,
  outcomesOf,
  runSurvivalChild,
  type SurvivalRun,
} from '../../sdk/src/test-support/survival.js';
import { type GatehouseProcess, startGatehouse } from './support/gatehouse-process.js';

let server: GatehouseProcess;
let run: SurvivalRun;

beforeAll(async () => {
  server = await startGatehouse();
  run = await runSurvivalChild({ GATEHOUSE_GRPC: server.grpc, GATEHOUSE_HTTP: server.http });
}, 150_000);

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

describe('the SDK with aborted signals against gatehouse serve', () => {
  it('leaves the process alive to its end', () => {
    expect({ exitCode: run.exitCode, survived: run.survived }, run.stderr).toEqual({
      exitCode: 0,
      survived: true,
    });
  });

  describe.each([['grpc'], ['http']] as const)('over %s', (kind) => {
    it.each(['pre-aborted', 'pre-aborted unbatched', 'aborted at once', 'aborted at once unbatched'])(
      'rejects every call %s with CancelledError (a watch ends quietly)',
      (scenario) => {
        expect(outcomesOf(run, scenario, kind)).toEqual(expectedWhenAborted());
      },
    );
  });
});
