// The config as it is safe to log: secrets replaced, addresses in their text form.
import type { GatehouseConfig } from './config.js';
import { formatListenAddress } from './listen-address.js';

/** A plain object for the start-up log line; the token is never included, only whether one is set. */
export function redactConfig(config: GatehouseConfig): Record<string, unknown> {
  return {
    policies: config.policies,
    http: formatListenAddress(config.http),
    grpc: formatListenAddress(config.grpc),
    token: config.token === undefined ? '(none)' : '(redacted)',
    tokenFile: config.tokenFile ?? '(none)',
    openScopes: config.openScopes ?? [],
    health: config.health === undefined ? '(none)' : formatListenAddress(config.health),
    fileReloadMs: config.fileReloadMs,
    tls: config.tls === undefined ? '(none)' : { ...config.tls },
    allowUnauthenticatedWrites: config.allowUnauthenticatedWrites,
    logLevel: config.logLevel,
    shutdownGraceMs: config.shutdownGraceMs,
    limits: { ...config.limits },
    redis: config.redis === undefined ? '(none)' : redactUrl(config.redis),
    store: config.store,
    redisMaxLagMs: config.redisMaxLagMs,
    redisWaitReplicas: config.redisWaitReplicas,
    redisChangelogRetention: config.redisChangelogRetention ?? '(default)',
    redisChangelogMaxBytes: config.redisChangelogMaxBytes ?? '(default)',
    dataDir: config.dataDir ?? '(none)',
    expirySweepIntervalMs: config.expirySweepIntervalMs,
    expirySweepBatchSize: config.expirySweepBatchSize,
  };
}

/** A URL with any password replaced: `redis://user:secret@host` → `redis://user:(redacted)@host`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:@/]*):[^@/]*@/, '$1:(redacted)@');
}
