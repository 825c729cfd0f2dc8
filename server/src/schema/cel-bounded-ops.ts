// The operators whose result can outgrow their inputs, re-bound with a size check: @bufbuild/cel
// has no evaluation-cost budget, so these keep every value an evaluation builds within the
// limits that parameter values already have (cel-condition.ts, COST LIMITS). An operation over
// the limit fails the evaluation (INVALID_ARGUMENT naming the condition), it does not run on.
// Built from the library cel-condition.ts loads on first use (never imported here at load time,
// so a schema without conditions does not load CEL).
import type { CelFunc } from '@bufbuild/cel';

type CelLibrary = typeof import('@bufbuild/cel');

/** Entries of a list an evaluation may build by `+` (parameter lists have the same limit). */
export const MAX_BUILT_LIST = 256;
/** Characters (string) or bytes an evaluation may build by `+`. */
export const MAX_BUILT_TEXT = 4096;

function tooLarge(what: string, size: number, limit: number): never {
  throw new Error(`'+' would build ${what} of ${size}, over the cost limit of ${limit}`);
}

/** Later functions override the standard library's same overloads (celEnv's resolver order). */
export function boundedOperators(cel: CelLibrary): readonly CelFunc[] {
  const { celFunc, celListConcat } = cel;
  const LIST = cel.listType(cel.CelScalar.DYN);
  const { BYTES, STRING } = cel.CelScalar;
  return [
    celFunc('_+_', [LIST, LIST], LIST, (l, r) => {
      const size = l.size + r.size;
      if (size > MAX_BUILT_LIST) tooLarge('a list', size, MAX_BUILT_LIST);
      return celListConcat(l, r);
    }),
    celFunc('_+_', [STRING, STRING], STRING, (l, r) => {
      if (l.length + r.length > MAX_BUILT_TEXT) tooLarge('a string', l.length + r.length, MAX_BUILT_TEXT);
      return l + r;
    }),
    celFunc('_+_', [BYTES, BYTES], BYTES, (l, r) => {
      if (l.length + r.length > MAX_BUILT_TEXT) tooLarge('bytes', l.length + r.length, MAX_BUILT_TEXT);
      const out = new Uint8Array(l.length + r.length);
      out.set(l);
      out.set(r, l.length);
      return out;
    }),
  ];
}
