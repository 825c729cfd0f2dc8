// Starts `gatehouse serve` (the built server in server/dist, or the sources through tsx) with a
// dataset's schema files as its policy directory, on the addresses asked for.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningTarget, startTarget } from './process-target.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const GATEHOUSE_DIST = join(ROOT, 'server/dist/cli/main.js');
const GATEHOUSE_SRC = join(ROOT, 'server/src/cli/main.ts');

const HEAP = '--max-old-space-size=12288';
/** The V8 flag the container image and `npm start` give the server (docs/configuration.md). */
const NO_PRETENURING = '--no-allocation-site-pretenuring';

/**
 * Extra node flags for the server, space-separated, from GATEHOUSE_BENCH_NODE_ARGS: to profile
 * it under load (`--cpu-prof --cpu-prof-dir=/tmp/prof`) or try V8 settings without editing this.
 */
function extraNodeArgs(): string[] {
  const raw = process.env.GATEHOUSE_BENCH_NODE_ARGS?.trim();
  return raw === undefined || raw === '' ? [] : raw.split(/\s+/);
}

/** Larger than the defaults so a dataset loads in few round trips; checks are unaffected. */
export const LOAD_BATCH = 10_000;

export interface GatehouseTargetOptions {
  readonly schemaFiles: ReadonlyMap<string, string>;
  /** `HOST:PORT` (port 0 picks one) or `unix:/path`. */
  readonly http: string;
  readonly grpc: string;
  /** Bearer token for writes. */
  readonly token: string;
  /** `dist` (default, what users run) or `src` (through tsx, for working on the bench). */
  readonly build?: 'dist' | 'src' | undefined;
  /**
   * With `dist`: the built entry point to run instead of this checkout's, e.g. another
   * checkout's `server/dist/cli/main.js`, to measure two builds side by side.
   */
  readonly entry?: string | undefined;
}

export async function startGatehouse(options: GatehouseTargetOptions): Promise<RunningTarget> {
  const build = options.build ?? 'dist';
  const entry = options.entry ?? GATEHOUSE_DIST;
  if (build === 'dist' && !existsSync(entry)) {
    throw new Error(`${entry} does not exist: run 'npm run build' first (or pass --server src)`);
  }
  const policies = mkdtempSync(join(tmpdir(), 'gatehouse-bench-policies-'));
  for (const [name, text] of options.schemaFiles) writeFileSync(join(policies, name), text);
  const args = [
    'serve',
    '--policies',
    policies,
    '--http',
    options.http,
    '--grpc',
    options.grpc,
    '--max-write-updates',
    String(LOAD_BATCH),
    '--max-body-bytes',
    String(64 * 1024 * 1024),
    '--log-level',
    'info',
    // The load clients send the token with writes only: checks and reads stay open, as before scopes.
    '--open-scopes',
    'check,read',
  ];
  const target = await startTarget({
    name: 'gatehouse',
    command: process.execPath,
    // Size L keeps 10M relationships in the store and the index: more than Node's default heap.
    args: [
      HEAP,
      NO_PRETENURING,
      ...extraNodeArgs(),
      ...(build === 'dist' ? [entry] : ['--import', 'tsx', GATEHOUSE_SRC]),
      ...args,
    ],
    // Huge pages for the graph's typed arrays, as the container image runs it (docs/configuration.md).
    env: { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1', ...process.env, GATEHOUSE_TOKEN: options.token },
    cwd: ROOT,
  });
  return {
    ...target,
    stop: async () => {
      await target.stop();
      rmSync(policies, { recursive: true, force: true });
    },
  };
}
