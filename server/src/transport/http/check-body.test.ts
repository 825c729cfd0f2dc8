// The cached /v1/check and /v1/check/batch bodies are exactly what the wire encoder produces,
// for the current token.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALLOWED_RESULT, type BatchCheckResult, DENIED_RESULT } from '../../engine/types.js';
import { InvalidArgumentError } from '../../errors.js';
import { encodeCheck, encodeCheckBatch, JSON_STYLE } from '../wire/encode.js';
import { createCheckBatchBodies, createCheckBodies } from './check-body.js';

describe('createCheckBodies', () => {
  it('renders what encodeCheck + JSON.stringify would, following the token as it changes', () => {
    const render = createCheckBodies();
    for (const token of ['GH1.1.a', 'GH1.1.a', 'GH1.2.b', 'GH1.1.a']) {
      for (const allowed of [true, false]) {
        const result = { allowed, permissionship: allowed ? 'allowed' : 'denied', token } as const;
        expect(render(result)).toBe(JSON.stringify(encodeCheck(result, JSON_STYLE)));
      }
    }
  });
});

describe('createCheckBatchBodies', () => {
  const item = fc.oneof(
    fc.constant(ALLOWED_RESULT),
    fc.constant(DENIED_RESULT),
    fc.constant<BatchCheckResult>({ allowed: true, permissionship: 'allowed' }),
    fc.string().map(
      (why): BatchCheckResult => ({
        error: new InvalidArgumentError(`bad "${why}"`, { field: 'items[0]' }),
      }),
    ),
  );

  it('renders what encodeCheckBatch + JSON.stringify would, for any mix of items and tokens', () => {
    const render = createCheckBatchBodies();
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 30 }),
        fc.constantFrom('GH1.1.a', 'GH1.2.b'),
        (results, token) => {
          const text = render({ results, token });
          expect(text).toBe(JSON.stringify(encodeCheckBatch({ results, token }, JSON_STYLE)));
          expect(JSON.parse(text).results).toHaveLength(results.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
