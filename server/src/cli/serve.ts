// `gatehouse serve`: config → signal handlers → policies → store (memory, or Redis) → service →
// gRPC and HTTP servers → the `ready` log line; SIGTERM/SIGINT drain in-flight calls and exit 0.
// The handlers go in before the first log line and anything slow, so a SIGTERM at any moment
// after any line (`starting`, `ready`) drains and exits 0, and a SIGHUP reloads (one received
// before `ready` is kept and served right after it, since policies may have changed meanwhile).
// The policy directory is watched from before its first read, for the same reason.
import { ConfigError, loadConfig, redactConfig, serveUsage } from '../config/index.js';
import { PolicyError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { loadPolicySet, policyRelationshipChunks } from '../policy/index.js';
import { PolicyReloader } from '../service/policy-reload.js';
import { type CreatedStore, createStore } from '../store/create-store.js';
import type { CompiledGraphStats } from '../store/redis/graph-snapshot-source.js';
import type { Store } from '../store/store.js';
import { GatehouseServer } from '../transport/gatehouse-server.js';
import { collectGarbageOnce } from './collect-garbage.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { watchPolicyDirectory } from './watch-policies.js';

/** Run `gatehouse serve` with the arguments after `serve`; resolves to the process exit code. */
export async function runServe(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(serveUsage());
    return EXIT_OK;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`gatehouse serve: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const signals = new ServeSignals();
  const logger = createLogger(config.logLevel);
  // Start, ready and stop lines are what tooling waits for (the `ready` line carries the bound
  // ports), so they are written at info even when the configured level is quieter.
  const lifecycle = config.logLevel === 'silent' ? logger : logger.child({}, { level: 'info' });
  lifecycle.info({ config: redactConfig(config) }, 'starting');
  // Watched from before the first read: a change made while the server starts (a ConfigMap
  // update landing during a rollout, say) is reloaded once it is ready, not left until the next.
  let changedWhileStarting: string | undefined;
  let onPoliciesChanged = (why: string): void => {
    changedWhileStarting = why;
  };
  const watcher = watchPolicyDirectory(config.policies, (why) => onPoliciesChanged(why), { logger });

  let policySet: Awaited<ReturnType<typeof loadPolicySet>>;
  try {
    policySet = await loadPolicySet(config.policies);
  } catch (err) {
    signals.dispose();
    watcher.close();
    if (!(err instanceof PolicyError)) {
      logger.error({ err, policies: config.policies }, 'cannot load policies');
      process.stderr.write(
        `gatehouse serve: cannot load policies from '${config.policies}': ${(err as Error).message}\n`,
      );
      return EXIT_FAILURE;
    }
    logger.error({ problems: err.problems.length, policies: config.policies }, 'invalid policies');
    process.stderr.write(
      `gatehouse serve: the policies in '${config.policies}' are invalid:\n${err.message}\n`,
    );
    return EXIT_FAILURE;
  }

  // The policy data files seed an empty store (the memory store's first revision); API writes
  // build on top of them, and they are never re-applied over live data. Bulk files are streamed
  // in chunks; the schema is all that is kept of the policy set after.
  let store: Store;
  let graphSource: CreatedStore['graphSource'];
  let onEpochChanged: CreatedStore['onEpochChanged'];
  let redisMetrics: CreatedStore['redisMetrics'];
  try {
    const created = await createStore(config, policyRelationshipChunks(policySet), { logger });
    store = created.store;
    graphSource = created.graphSource;
    onEpochChanged = created.onEpochChanged;
    redisMetrics = created.redisMetrics;
    lifecycle.info({ storeKind: store.kind, store: config.store, seeded: created.seeded }, 'store open');
  } catch (err) {
    signals.dispose();
    watcher.close();
    if (err instanceof PolicyError) {
      logger.error({ problems: err.problems.length, policies: config.policies }, 'invalid policies');
      process.stderr.write(
        `gatehouse serve: the policies in '${config.policies}' are invalid:\n${err.message}\n`,
      );
      return EXIT_FAILURE;
    }
    logger.error({ err }, 'cannot open the store');
    process.stderr.write(`gatehouse serve: cannot open the store: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
  // Drop the policy set's positioned relationships (an object and a position each): they are in the store now.
  const schema = policySet.schema;
  policySet = { ...policySet, relationships: [] };
  let server: GatehouseServer;
  try {
    server = await GatehouseServer.start({
      config,
      schema,
      store,
      logger,
      lifecycleLogger: lifecycle,
      graphSource: graphSource?.source,
      closeGraphSource: graphSource?.close,
      onEpochChanged,
      redisMetrics,
    });
  } catch (err) {
    signals.dispose();
    watcher.close();
    logger.error({ err }, 'cannot start');
    process.stderr.write(`gatehouse serve: cannot start: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
  // Hot reload: file changes (debounced), SIGHUP and POST /v1/admin/reload all land here.
  const reloader = new PolicyReloader({
    service: server.service,
    load: () => loadPolicySet(config.policies),
    logger: lifecycle,
    onResult: (result) => server.metrics.policyReloaded(result),
  });
  server.service.setReloader(reloader);
  onPoliciesChanged = (why) => void reloader.reload(`changed: ${why}`);
  lifecycle.info(
    {
      http: server.httpAddress,
      grpc: server.grpcAddress,
      health: server.healthAddress,
      revision: server.service.revision,
      relationships: server.service.relationshipCount,
      schemaHash: schema.hash,
      // With --redis: whether the graph came from a snapshot another replica published (1) or was built (0).
      ...(graphSource === undefined ? {} : snapshotLoadFields(graphSource.source.stats)),
    },
    'ready',
  );
  signals.onHangup(() => void reloader.reload('SIGHUP'));
  if (changedWhileStarting !== undefined)
    void reloader.reload(`changed while starting: ${changedWhileStarting}`);
  collectGarbageOnce();
  collectGarbageOnce();

  const signal = await signals.stop;
  lifecycle.info({ signal }, 'signal received');
  watcher.close();
  await server.stop(config.shutdownGraceMs);
  signals.dispose();
  return EXIT_OK;
}

/**
 * The process's signal handlers, installed at once: the first SIGTERM/SIGINT resolves `stop`
 * (a second one while draining exits at once); SIGHUP calls the hangup handler, and one that
 * arrives before the handler is given is delivered when it is (once, however many came).
 */
class ServeSignals {
  readonly stop: Promise<NodeJS.Signals>;
  #hangup: (() => void) | undefined;
  #hangupPending = false;
  #stopped = false;
  readonly #onStop: (signal: NodeJS.Signals) => void;
  readonly #onHup = (): void => {
    if (this.#hangup === undefined) this.#hangupPending = true;
    else this.#hangup();
  };

  constructor() {
    let resolve: (signal: NodeJS.Signals) => void = () => undefined;
    this.stop = new Promise((r) => {
      resolve = r;
    });
    this.#onStop = (signal) => {
      if (this.#stopped) process.exit(EXIT_FAILURE);
      this.#stopped = true;
      resolve(signal);
    };
    process.on('SIGTERM', this.#onStop);
    process.on('SIGINT', this.#onStop);
    process.on('SIGHUP', this.#onHup);
  }

  /** From now on SIGHUP calls `handler`; called at once if a SIGHUP came before. */
  onHangup(handler: () => void): void {
    this.#hangup = handler;
    if (this.#hangupPending) {
      this.#hangupPending = false;
      handler();
    }
  }

  dispose(): void {
    process.off('SIGTERM', this.#onStop);
    process.off('SIGINT', this.#onStop);
    process.off('SIGHUP', this.#onHup);
  }
}

/** The ready line's compiled-graph fields; load time and size only when a snapshot was loaded. */
function snapshotLoadFields(stats: CompiledGraphStats): Record<string, number> {
  if (stats.hits === 0) return { graphSnapshotLoaded: 0 };
  return {
    graphSnapshotLoaded: stats.hits,
    graphSnapshotLoadMs: Math.round(stats.lastLoadMs),
    graphSnapshotBytes: stats.lastLoadBytes,
  };
}
