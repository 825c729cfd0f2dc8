// What every phase of a bench run shares: the options, the log, and the results it appends to.
import type { BenchOptions } from '../cli/options.js';
import type { RunLoadOptions } from '../harness/run-load.js';
import type { LoadSpec, LoadSummary } from '../harness/types.js';
import type { ResultRow } from '../report/row.js';

export interface BenchContext {
  readonly options: BenchOptions;
  /** Progress lines (stderr), so stdout carries only the table. */
  log(line: string): void;
  readonly rows: ResultRow[];
  /** Peers skipped or limited, and why: printed and written to RESULTS.md. */
  readonly notes: string[];
  /** `system → version` of everything measured. */
  readonly versions: Map<string, string>;
  /** How a load spec is measured; default the harness's `runLoad` (tests hand in known results). */
  readonly runLoad?: ((spec: LoadSpec, options: RunLoadOptions) => Promise<LoadSummary>) | undefined;
}
