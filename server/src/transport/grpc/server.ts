// The gRPC server: GatehouseService plus grpc.health.v1 and server reflection (loaded on its first
// call, see lazy-reflection.ts), listening on TCP or a unix socket, with a drain-then-force
// shutdown.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { formatListenAddress, type ListenAddress } from '../../config/listen-address.js';
import type { Logger } from '../../observability/logger.js';
import type { GatehouseMetrics } from '../../observability/metrics.js';
import type { GatehouseService } from '../../service/gatehouse-service.js';
import { grpcServerCredentials } from '../tls/grpc-credentials.js';
import type { TlsFiles } from '../tls/tls-files.js';
import { removeStaleSocket } from '../unix-socket.js';
import { type GrpcHandlerDeps, gatehouseHandlers } from './handlers.js';
import { addLazyReflection } from './lazy-reflection.js';
import { gatehouseProto, reflectionPackageDefinition, SERVICE_NAME } from './proto.js';
import { gatehouseServiceDefinition } from './service-definition.js';

export interface GrpcServerOptions extends Pick<GrpcHandlerDeps, 'tracing'> {
  readonly service: GatehouseService;
  readonly metrics: GatehouseMetrics;
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  readonly defaultDeadlineMs: number;
  /** Serve TLS (mutual when the files carry a client CA); plaintext when absent. */
  readonly tls?: TlsFiles | undefined;
}

export class GrpcServer {
  readonly #server: Server;
  readonly #health: HealthImplementation;
  readonly #credentials: ServerCredentials;

  constructor(options: GrpcServerOptions) {
    this.#credentials =
      options.tls === undefined ? ServerCredentials.createInsecure() : grpcServerCredentials(options.tls);
    this.#server = new Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      // Keep idle sidecar connections open; the app on the other side of the pod reuses them.
      'grpc.keepalive_permit_without_calls': 1,
    });
    this.#server.addService(gatehouseServiceDefinition(gatehouseProto()), gatehouseHandlers(options));
    this.#health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
    this.#health.addToServer(this.#server);
    addLazyReflection(this.#server, reflectionPackageDefinition, (err) =>
      options.logger.warn(
        { err },
        'gRPC server reflection could not be loaded; the next reflection call retries',
      ),
    );
  }

  /** Bind and start; resolves to the bound address (the real port when 0 was asked for). */
  async listen(address: ListenAddress): Promise<string> {
    const target = formatListenAddress(address);
    if (address.kind === 'unix') await removeStaleSocket(address.path);
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(target, this.#credentials, (err, port) => {
        if (err !== null) {
          reject(new Error(`gRPC cannot listen on ${target}: ${err.message}`, { cause: err }));
          return;
        }
        resolve(address.kind === 'unix' ? target : formatListenAddress({ ...address, port }));
      });
    });
  }

  /** What grpc.health.v1 reports for the server as a whole and for GatehouseService. */
  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.#health.setStatus('', status);
    this.#health.setStatus(SERVICE_NAME, status);
  }

  /** Stop accepting calls, let in-flight ones finish for up to `graceMs`, then cut the rest. */
  shutdown(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
