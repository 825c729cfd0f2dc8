// The interface every in-process system implements for the engine comparison: one question in,
// one decision out, synchronously, with all setup (parsing, indexing, caches) done beforehand.
import type { Question } from '../../harness/types.js';

export interface InProcessChecker {
  /** `casbin`, `cedar-wasm`, ... as shown in the table. */
  readonly system: string;
  readonly version: string;
  /** What the caller has to precompute for this system, for the table's notes. */
  readonly note: string;
  check(question: Question): boolean;
}
