// Composes a running Gatehouse: service over a store, metrics, and both listeners. Used by
// `gatehouse serve` and by tests that want a real server in-process.
import type { GatehouseConfig } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { GatehouseMetrics } from '../observability/metrics.js';
import type { Schema } from '../schema/schema.js';
import { GatehouseService, type GatehouseServiceOptions } from '../service/gatehouse-service.js';
import type { Store } from '../store/store.js';
import { GrpcServer } from './grpc/server.js';
import { createHttpApp } from './http/app.js';
import { HttpServer } from './http/server.js';

export interface GatehouseServerOptions {
  readonly config: GatehouseConfig;
  readonly schema: Schema;
  /** The server takes ownership: `stop()` closes it. */
  readonly store: Store;
  readonly logger: Logger;
  /** Receives the shutdown progress lines; defaults to `logger`. */
  readonly lifecycleLogger?: Logger | undefined;
  /** Compiled graphs cached outside the process (--redis); closed by `stop()` after the store. */
  readonly graphSource?: GatehouseServiceOptions['graphSource'];
  readonly closeGraphSource?: (() => Promise<void>) | undefined;
  /** Told when the store's data starts anew (GatehouseServiceOptions.onEpochChanged). */
  readonly onEpochChanged?: GatehouseServiceOptions['onEpochChanged'];
}

export class GatehouseServer {
  readonly service: GatehouseService;
  readonly metrics: GatehouseMetrics;
  /** Bound addresses as logged in the `ready` line (`host:port` or `unix:/path`). */
  readonly httpAddress: string;
  readonly grpcAddress: string;
  readonly #grpc: GrpcServer;
  readonly #http: HttpServer;
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #closeGraphSource: (() => Promise<void>) | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(parts: {
    service: GatehouseService;
    metrics: GatehouseMetrics;
    grpc: GrpcServer;
    http: HttpServer;
    store: Store;
    logger: Logger;
    httpAddress: string;
    grpcAddress: string;
    closeGraphSource?: (() => Promise<void>) | undefined;
  }) {
    this.service = parts.service;
    this.metrics = parts.metrics;
    this.#grpc = parts.grpc;
    this.#http = parts.http;
    this.#store = parts.store;
    this.#logger = parts.logger;
    this.httpAddress = parts.httpAddress;
    this.grpcAddress = parts.grpcAddress;
    this.#closeGraphSource = parts.closeGraphSource;
  }

  /** Build the graph, bind both listeners, report SERVING. Rejects (having cleaned up) if a listener fails. */
  static async start(options: GatehouseServerOptions): Promise<GatehouseServer> {
    const { config, logger, store } = options;
    let service: GatehouseService;
    try {
      service = await GatehouseService.create({
        schema: options.schema,
        store,
        limits: config.limits,
        token: config.token,
        logger,
        maxLagMs: config.redisMaxLagMs,
        graphSource: options.graphSource,
        onEpochChanged: options.onEpochChanged,
      });
    } catch (err) {
      await store.close();
      await options.closeGraphSource?.();
      throw err;
    }
    const metrics = new GatehouseMetrics(service);
    const deps = { service, metrics, logger, defaultDeadlineMs: config.limits.defaultDeadlineMs };
    const grpc = new GrpcServer({ ...deps, maxMessageBytes: config.limits.maxBodyBytes });
    const http = new HttpServer(createHttpApp({ ...deps, maxBodyBytes: config.limits.maxBodyBytes }));
    // Wait for both binds to settle: shutting a server down while its bind is still in flight
    // would leave it listening once the bind completes.
    const [httpBound, grpcBound] = await Promise.allSettled([
      http.listen(config.http),
      grpc.listen(config.grpc),
    ]);
    if (httpBound.status === 'rejected' || grpcBound.status === 'rejected') {
      await Promise.all([http.shutdown(0), grpc.shutdown(0)]);
      service.close();
      await store.close();
      await options.closeGraphSource?.();
      throw httpBound.status === 'rejected' ? httpBound.reason : (grpcBound as PromiseRejectedResult).reason;
    }
    const addresses = [httpBound.value, grpcBound.value] as const;
    grpc.setServing(true);
    return new GatehouseServer({
      service,
      metrics,
      grpc,
      http,
      store,
      logger: options.lifecycleLogger ?? logger,
      httpAddress: addresses[0],
      grpcAddress: addresses[1],
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
    this.#logger.info({ graceMs }, 'shutting down: draining in-flight calls');
    await Promise.all([this.#http.shutdown(graceMs), this.#grpc.shutdown(graceMs)]);
    this.service.close();
    await this.#store.close();
    await this.#closeGraphSource?.();
    this.#logger.info('stopped');
  }
}
