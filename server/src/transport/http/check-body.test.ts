// The cached /v1/check bodies are exactly what the wire encoder produces, for the current token.
import { describe, expect, it } from 'vitest';
import { encodeCheck, JSON_STYLE } from '../wire/encode.js';
import { createCheckBodies } from './check-body.js';

describe('createCheckBodies', () => {
  it('renders what encodeCheck + JSON.stringify would, following the token as it changes', () => {
    const render = createCheckBodies();
    for (const token of ['GH1.1.a', 'GH1.1.a', 'GH1.2.b', 'GH1.1.a']) {
      for (const allowed of [true, false]) {
        expect(render({ allowed, token })).toBe(JSON.stringify(encodeCheck({ allowed, token }, JSON_STYLE)));
      }
    }
  });
});
