// `gatehouse serve`: config → policies → memory store → service → gRPC and HTTP servers →
// the `ready` log line; SIGTERM/SIGINT drain in-flight calls and exit 0.
import { ConfigError, loadConfig, redactConfig, serveUsage } from '../config/index.js';
import { PolicyError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { loadPolicySet } from '../policy/index.js';
import { MemoryStore } from '../store/index.js';
import { GatehouseServer } from '../transport/gatehouse-server.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

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
  const logger = createLogger(config.logLevel);
  // Start, ready and stop lines are what tooling waits for (the `ready` line carries the bound
  // ports), so they are written at info even when the configured level is quieter.
  const lifecycle = config.logLevel === 'silent' ? logger : logger.child({}, { level: 'info' });
  lifecycle.info({ config: redactConfig(config) }, 'starting');

  let policySet: Awaited<ReturnType<typeof loadPolicySet>>;
  try {
    policySet = await loadPolicySet(config.policies);
  } catch (err) {
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

  // The policy data files are the store's first revision; API writes build on top of them.
  const store = MemoryStore.withRelationships(policySet.relationships.map((r) => r.relationship));
  let server: GatehouseServer;
  try {
    server = await GatehouseServer.start({
      config,
      schema: policySet.schema,
      store,
      logger,
      lifecycleLogger: lifecycle,
    });
  } catch (err) {
    logger.error({ err }, 'cannot start');
    process.stderr.write(`gatehouse serve: cannot start: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
  lifecycle.info(
    {
      http: server.httpAddress,
      grpc: server.grpcAddress,
      health: server.healthAddress,
      revision: server.service.revision,
      relationships: server.service.relationshipCount,
      schemaHash: policySet.schema.hash,
    },
    'ready',
  );

  const signal = await nextSignal();
  lifecycle.info({ signal }, 'signal received');
  await server.stop(config.shutdownGraceMs);
  return EXIT_OK;
}

/** Resolves with the first SIGTERM/SIGINT; a second one while draining exits at once. */
function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.once('SIGTERM', () => process.exit(EXIT_FAILURE));
      process.once('SIGINT', () => process.exit(EXIT_FAILURE));
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
