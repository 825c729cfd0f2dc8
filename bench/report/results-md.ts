// Writes bench/RESULTS.md: the header (machine, versions, dataset, command) and every section but
// `## In-process engine`, which the engine bench (bench/engine/) owns, and `## Components`, written
// by hand from the component benches (bench/store, bench/grpc); this writer keeps both as they are.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { ResultRow } from './row.js';
import { markdownTable } from './table.js';
import { targetLines } from './targets.js';

export const ENGINE_SECTION = '## In-process engine';
/** Measurements of single components (store, codecs, lookups), written by hand with their commands. */
export const COMPONENTS_SECTION = '## Components';

export interface ResultsContext {
  readonly command: string;
  readonly dataset: string;
  readonly datasetDetail: string;
  readonly rows: readonly ResultRow[];
  readonly notes: readonly string[];
  readonly versions: ReadonlyMap<string, string>;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly date: string;
  readonly load: string;
}

/** Section `heading` of an existing file, verbatim, or undefined. */
function keptSection(existing: string | undefined, heading: string): string | undefined {
  if (existing === undefined) return undefined;
  const start = existing.indexOf(`\n${heading}\n`);
  if (start < 0) return undefined;
  const rest = existing.slice(start + 1);
  const next = rest.indexOf('\n## ', heading.length);
  return (next < 0 ? rest : rest.slice(0, next)).trimEnd();
}

/** The `## In-process engine` section of an existing file, verbatim, or a pointer to its owner. */
export function keepEngineSection(existing: string | undefined): string {
  return (
    keptSection(existing, ENGINE_SECTION) ??
    `${ENGINE_SECTION}\n\nWritten by the engine bench (bench/engine/); not run yet.`
  );
}

const SPICEDB_PUBLISHED =
  "SpiceDB's published cluster figures, for scale: AuthZed reports 1,000,000 requests/s (99% CheckPermission, 1% writes) " +
  'with a 5.76 ms p95 CheckPermission latency against up to 100 billion relationships, on SpiceDB Dedicated with ' +
  'CockroachDB on a multi-node AWS EKS deployment ("Google-Scale Authorization: Getting to 1 Million QPS on SpiceDB ' +
  'Dedicated with CockroachDB", 2023-07-12, https://authzed.com/blog/google-scale-authorization). That is a horizontally ' +
  'scaled networked cluster, not comparable to the embedded development store measured here, and not to a 2-core sidecar.';

export function renderResults(ctx: ResultsContext, existing: string | undefined): string {
  const rows = ctx.rows;
  const pick = (p: (r: ResultRow) => boolean): ResultRow[] => rows.filter(p);
  const versions = [...ctx.versions].map(([k, v]) => `${k} ${v}`).join(', ');
  const sections: string[] = [
    '# Benchmark results',
    '',
    `Produced by \`${ctx.command}\` on ${ctx.date}; regenerate with the same command (see bench/README.md).`,
    '',
    `- **Machine**: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
      `Node ${process.version}, ${process.platform}/${process.arch}. Load average when the run started: ${ctx.load}. ` +
      'The machine is shared and noisy (other builds and test suites run on the same 2 cores): read ratios measured in ' +
      'the same run, not absolute numbers, and re-run with `--repeat 3` to keep the median of three.',
    `- **Versions**: Gatehouse (this repository)${versions === '' ? '' : `, ${versions}`}.`,
    `- **Dataset**: ${ctx.dataset}: ${ctx.datasetDetail}.`,
    `- **Method**: closed-loop load from a separate worker process (bench/harness), ${ctx.warmupMs / 1000} s warm-up then ` +
      `${ctx.durationMs / 1000} s measured per row; latencies from HDR histograms; failed calls are counted as errors, ` +
      'never as throughput. Every system first answers the same sampled questions (the correctness gate); a disagreement aborts the run. ' +
      'Gatehouse and its transport floor run side by side and are measured in alternating pairs (one pair per --repeat); ' +
      'each row keeps its median run, and the targets below use the medians of the per-pair ratios. ' +
      '"× Gatehouse" is the row\'s throughput divided by Gatehouse\'s on the same scenario, transport and concurrency.',
    '',
    keepEngineSection(existing),
    '',
  ];
  const components = keptSection(existing, COMPONENTS_SECTION);
  if (components !== undefined) sections.push(components, '');
  const inProcess = pick((r) => r.transport === 'in-process');
  if (inProcess.length > 0) {
    sections.push(
      '## Engine vs in-process libraries',
      '',
      'Same sampled questions, same process, one system after another. casbin walks nested groups in its role manager and ' +
        "cedar-wasm in the entity hierarchy it is handed per request; CASL gets each user's transitive group set (rules cached per user). " +
        'SpiceDB runs embedded (its real engine over FFI) on its in-memory development datastore, which slows as relationships grow: ' +
        'a correctness peer and a lookup/bulk-check comparison at small size only.',
      '',
      markdownTable(inProcess, rows),
      '',
      SPICEDB_PUBLISHED,
      '',
    );
  }
  const service = pick((r) => r.transport !== 'in-process' && r.scenario === 'check');
  if (service.length > 0) {
    sections.push(
      '## Service: single checks over gRPC and HTTP',
      '',
      'Gatehouse (`gatehouse serve`, memory store, the dataset loaded through WriteRelationships) beside the bare transport ' +
        'floors started by the bench (a grpc-js server and a hono app that decode the same request and answer a constant) and, ' +
        "with --compare, Cerbos (its own binary, disk policy store, loopback; each request carries the principal's transitive " +
        'group set, computed by the harness, because Cerbos has no group graph). Unix rows use `--http unix:` / `--grpc unix:`.',
      '',
      markdownTable(service, rows),
      '',
    );
  }
  const steady = pick((r) => r.scenario === 'steady');
  if (steady.length > 0) {
    sections.push(
      '## Latency at a steady load',
      '',
      'Single checks with the load paced instead of closed: the given number of clients each send their next call on a ' +
        "fixed schedule, together at a share of the floor's closed-loop throughput (the note gives the rate), for Gatehouse " +
        'and the floor alike. In a closed loop p50 is about concurrency ÷ throughput, so there it measures capacity; here ' +
        'calls meet a server with headroom, and p50 is the latency a caller sees at that load.',
      '',
      markdownTable(steady, rows),
      '',
    );
  }
  const batch = pick((r) => r.transport !== 'in-process' && r.scenario === 'batch');
  if (batch.length > 0) {
    sections.push(
      '## CheckBatch',
      '',
      'Throughput in checks (items) per second.',
      '',
      markdownTable(batch, rows),
      '',
    );
  }
  const lookup = pick((r) => r.transport !== 'in-process' && r.scenario === 'lookup');
  if (lookup.length > 0) {
    sections.push(
      '## LookupResources',
      '',
      'Lookups per second, each reading every page.',
      '',
      markdownTable(lookup, rows),
      '',
    );
  }
  const targets = targetLines(rows);
  if (targets.length > 0) sections.push('## Where we stand against the targets', '', ...targets, '');
  sections.push(
    '## Notes',
    '',
    '- k6 cannot be installed on this machine; the k6 scripts in bench/k6/ run the same scenarios elsewhere.',
    ...ctx.notes.map((n) => `- ${n}`),
    '',
  );
  return sections.join('\n');
}

export function writeResults(path: string, ctx: ResultsContext): void {
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  writeFileSync(path, renderResults(ctx, existing));
}
