// Composes a running Gatehouse: service over a store, metrics, both API listeners and the
// optional health listener, with token scopes from configuration. Used by
// `gatehouse serve` and by tests that want a real server in-process.
import { DEFAULT_CONFIG, type GatehouseConfig } from '../config/config.js';
import {
  createDecisionLog,
  type DecisionLog,
  registerDecisionLogMetrics,
} from '../observability/decision-log.js';
import type { Logger } from '../observability/logger.js';
import { GatehouseMetrics } from '../observability/metrics.js';
import { type RedisMetricsSource, registerRedisMetrics } from '../observability/redis-metrics.js';
import { RequestTracing } from '../observability/tracing.js';
import type { Schema } from '../schema/schema.js';
import { type RunningAuth, startAuth } from '../service/auth/index.js';
import {
  DEFAULT_SWEEP_BATCH_SIZE,
  ExpirySweeper,
  registerExpirySweeperMetrics,
} from '../service/expiry-sweeper.js';
import { GatehouseService, type GatehouseServiceOptions } from '../service/gatehouse-service.js';
import type { Store } from '../store/store.js';
import { GrpcServer } from './grpc/server.js';
import { createHttpApp } from './http/app.js';
import { createHealthApp } from './http/probes.js';
import { HttpServer } from './http/server.js';
import { TlsFiles } from './tls/tls-files.js';

export interface GatehouseServerOptions {
  readonly config: GatehouseConfig;
  readonly schema: Schema;
  /** The server takes ownership: `stop()` closes it. */
  readonly store: Store;
  readonly logger: Logger;
  /** Receives the shutdown progress lines; defaults to `logger`. */
  readonly lifecycleLogger?: Logger | undefined;
  /** Request spans; default: on the global tracer provider when `config.otel`, else none. */
  readonly tracing?: RequestTracing | undefined;
  /** Compiled graphs cached outside the process (--redis); closed by `stop()` after the store. */
  readonly graphSource?: GatehouseServiceOptions['graphSource'];
  readonly closeGraphSource?: (() => Promise<void>) | undefined;
  /** Told when the store's data starts anew (GatehouseServiceOptions.onEpochChanged). */
  readonly onEpochChanged?: GatehouseServiceOptions['onEpochChanged'];
  /** With --redis: the store's own series (errors by kind, reconnects, changelog length). */
  readonly redisMetrics?: RedisMetricsSource | undefined;
}

export class GatehouseServer {
  readonly service: GatehouseService;
  readonly metrics: GatehouseMetrics;
  /** Bound addresses as logged in the `ready` line (`host:port` or `unix:/path`). */
  readonly httpAddress: string;
  readonly grpcAddress: string;
  /** The health listener's bound address, when one is configured. */
  readonly healthAddress: string | undefined;
  readonly #grpc: GrpcServer;
  readonly #health: HttpServer | undefined;
  readonly #auth: RunningAuth;
  readonly #tls: TlsFiles | undefined;
  readonly #http: HttpServer;
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #closeGraphSource: (() => Promise<void>) | undefined;
  #stopping: Promise<void> | undefined;
  readonly #decisionLog: DecisionLog | undefined;
  readonly #sweeper: ExpirySweeper;

  private constructor(parts: {
    sweeper: ExpirySweeper;
    service: GatehouseService;
    metrics: GatehouseMetrics;
    grpc: GrpcServer;
    http: HttpServer;
    store: Store;
    logger: Logger;
    httpAddress: string;
    grpcAddress: string;
    health: HttpServer | undefined;
    healthAddress: string | undefined;
    auth: RunningAuth;
    tls: TlsFiles | undefined;
    decisionLog?: DecisionLog | undefined;
    closeGraphSource?: (() => Promise<void>) | undefined;
  }) {
    this.#sweeper = parts.sweeper;
    this.#decisionLog = parts.decisionLog;
    this.service = parts.service;
    this.metrics = parts.metrics;
    this.#grpc = parts.grpc;
    this.#http = parts.http;
    this.#store = parts.store;
    this.#logger = parts.logger;
    this.httpAddress = parts.httpAddress;
    this.grpcAddress = parts.grpcAddress;
    this.#health = parts.health;
    this.healthAddress = parts.healthAddress;
    this.#auth = parts.auth;
    this.#tls = parts.tls;
    this.#closeGraphSource = parts.closeGraphSource;
  }

  /** Build the graph, bind both listeners, report SERVING. Rejects (having cleaned up) if a listener fails. */
  static async start(options: GatehouseServerOptions): Promise<GatehouseServer> {
    const { config, logger, store } = options;
    let service: GatehouseService;
    let auth: RunningAuth | undefined;
    let tls: TlsFiles | undefined;
    const decisionLog = createDecisionLog(config);
    if (decisionLog !== undefined)
      decisionLog.onSinkError = (err) => logger.error({ err }, 'cannot write decision logs');
    try {
      tls =
        config.tls === undefined ? undefined : TlsFiles.load(config.tls, config.fileReloadMs ?? 1000, logger);
      auth = startAuth(
        {
          token: config.token,
          tokenFile: config.tokenFile,
          openScopes: config.openScopes ?? [],
          reloadMs: config.fileReloadMs ?? 1000,
        },
        logger,
      );
      service = await GatehouseService.create({
        schema: options.schema,
        store,
        limits: config.limits,
        authorizer: auth.authorizer,
        logger,
        maxLagMs: config.redisMaxLagMs,
        decisionLog,
        graphSource: options.graphSource,
        onEpochChanged: options.onEpochChanged,
      });
    } catch (err) {
      auth?.close();
      tls?.close();
      await decisionLog?.close();
      await store.close();
      await options.closeGraphSource?.();
      throw err;
    }
    const metrics = new GatehouseMetrics(service);
    registerDecisionLogMetrics(metrics.registry, decisionLog);
    if (options.redisMetrics !== undefined) registerRedisMetrics(metrics.registry, options.redisMetrics);
    const sweeper = new ExpirySweeper({
      store,
      intervalMs: config.expirySweepIntervalMs ?? DEFAULT_CONFIG.expirySweepIntervalMs ?? 0,
      batchSize: config.expirySweepBatchSize ?? DEFAULT_SWEEP_BATCH_SIZE,
      logger,
    });
    registerExpirySweeperMetrics(metrics.registry, sweeper);
    const deps = {
      service,
      metrics,
      logger,
      defaultDeadlineMs: config.limits.defaultDeadlineMs,
      tracing: options.tracing ?? (config.otel ? new RequestTracing() : undefined),
    };
    const grpc = new GrpcServer({ ...deps, maxMessageBytes: config.limits.maxBodyBytes, tls });
    const probes = config.health === undefined;
    const http = new HttpServer(
      createHttpApp({
        ...deps,
        maxBodyBytes: config.limits.maxBodyBytes,
        probes,
        authzen: { decisionLog, baseUrl: config.authzenBaseUrl },
      }),
      tls === undefined ? undefined : { files: tls, requireClientCert: true },
    );
    // TLS without client certificates: the kubelet's probes cannot present one.
    const health = probes
      ? undefined
      : new HttpServer(
          createHealthApp({ service, metrics }),
          tls === undefined ? undefined : { files: tls, requireClientCert: false },
        );
    // Wait for every bind to settle: shutting a server down while its bind is still in flight
    // would leave it listening once the bind completes.
    const [httpBound, grpcBound, healthBound] = await Promise.allSettled([
      http.listen(config.http),
      grpc.listen(config.grpc),
      health === undefined || config.health === undefined ? undefined : health.listen(config.health),
    ]);
    const failed = [httpBound, grpcBound, healthBound].find((b) => b.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all([http.shutdown(0), grpc.shutdown(0), health?.shutdown(0)]);
      service.close();
      auth.close();
      tls?.close();
      await decisionLog?.close();
      await store.close();
      await options.closeGraphSource?.();
      throw failed.reason;
    }
    const addresses = [
      (httpBound as PromiseFulfilledResult<string>).value,
      (grpcBound as PromiseFulfilledResult<string>).value,
    ] as const;
    grpc.setServing(true);
    sweeper.start();
    return new GatehouseServer({
      sweeper,
      service,
      metrics,
      grpc,
      http,
      store,
      logger: options.lifecycleLogger ?? logger,
      httpAddress: addresses[0],
      grpcAddress: addresses[1],
      health,
      healthAddress: healthBound.status === 'fulfilled' ? healthBound.value : undefined,
      auth,
      tls,
      decisionLog,
      closeGraphSource: options.closeGraphSource,
    });
  }

  /**
   * Graceful stop: readiness and health go false, listeners stop accepting, watch streams end,
   * in-flight calls get up to `graceMs` to finish, then the store is closed. Idempotent.
   */
  stop(graceMs: number): Promise<void> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    this.service.beginShutdown();
    this.#grpc.setServing(false);
    await this.#sweeper.stop();
    this.#logger.info({ graceMs }, 'shutting down: draining in-flight calls');
    await Promise.all([this.#http.shutdown(graceMs), this.#grpc.shutdown(graceMs)]);
    // The health listener goes last: /readyz answers 503 while the API drains.
    await this.#health?.shutdown(0);
    this.#auth.close();
    this.#tls?.close();
    this.service.close();
    await this.#decisionLog?.close();
    await this.#store.close();
    await this.#closeGraphSource?.();
    this.#logger.info('stopped');
  }
}
