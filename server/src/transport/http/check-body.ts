// The /v1/check response body. A check answers one of two bodies per revision token, so they are
// encoded (by the shared wire encoder, which owns the shape) once per token and reused: this
// drops an object allocation and a JSON.stringify from every check.
import type { CheckResult } from '../../service/requests.js';
import { encodeCheck, JSON_STYLE } from '../wire/encode.js';

/** A renderer of CheckResults to JSON text, caching the allowed and denied bodies of the last token. */
export function createCheckBodies(): (result: CheckResult) => string {
  let token: string | undefined;
  let allowed = '';
  let denied = '';
  return (result) => {
    if (result.token !== token) {
      token = result.token;
      allowed = JSON.stringify(encodeCheck({ allowed: true, token }, JSON_STYLE));
      denied = JSON.stringify(encodeCheck({ allowed: false, token }, JSON_STYLE));
    }
    return result.allowed ? allowed : denied;
  };
}
