// Test support: N `gatehouse serve` processes on one Redis (one store), each on free loopback
// ports, stopped together; built on the end-to-end suite's process launcher.
import {
  type GatehouseProcess,
  type StartOptions,
  startGatehouse,
} from '../e2e/support/gatehouse-process.js';
import { track } from './process-registry.js';

export interface FleetOptions {
  /** How many replicas (default 3). */
  readonly replicas?: number | undefined;
  /** The Redis URL every replica gets as `--redis` (or one URL per replica, e.g. through a proxy). */
  readonly redisUrl: string | readonly string[];
  /** `--store NAME` (default: the server's default store). */
  readonly store?: string | undefined;
  readonly policies?: string | undefined;
  /** Extra `serve` flags for every replica. */
  readonly args?: readonly string[] | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly readyTimeoutMs?: number | undefined;
}

export interface GatehouseFleet {
  readonly replicas: GatehouseProcess[];
  /** Start one more replica with the fleet's options (its Redis URL: `redisUrl` or the first of the list). */
  add(overrides?: Partial<FleetOptions>): Promise<GatehouseProcess>;
  /** Stop every replica (SIGTERM; SIGKILL after a bound). */
  stop(): Promise<void>;
}

function serveArgs(options: FleetOptions, index: number): StartOptions {
  const url = typeof options.redisUrl === 'string' ? options.redisUrl : options.redisUrl[index];
  if (url === undefined) throw new Error(`no Redis URL for replica ${index}`);
  return {
    policies: options.policies,
    args: ['--redis', url, ...(options.store ? ['--store', options.store] : []), ...(options.args ?? [])],
    env: options.env,
    readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
  };
}

/** Start the replicas one after another (the first seeds an empty store; the rest find it seeded). */
export async function startFleet(options: FleetOptions): Promise<GatehouseFleet> {
  const replicas: GatehouseProcess[] = [];
  const start = async (opts: FleetOptions, index: number): Promise<GatehouseProcess> => {
    const proc = await startGatehouse(serveArgs(opts, index));
    track(proc.child);
    replicas.push(proc);
    return proc;
  };
  const stop = async (): Promise<void> => {
    await Promise.all(
      replicas.map(async (r) => {
        const timer = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
        await r.stop();
        clearTimeout(timer);
      }),
    );
  };
  try {
    for (let i = 0; i < (options.replicas ?? 3); i++) await start(options, i);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    replicas,
    add: (overrides = {}) => start({ ...options, ...overrides }, 0),
    stop,
  };
}
