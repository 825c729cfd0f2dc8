// The one typed configuration object of `gatehouse serve`, and its documented defaults.
import type { ListenAddress } from './listen-address.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Request limits; each exceeded limit is answered with RESOURCE_EXHAUSTED, never with work. */
export interface Limits {
  /** Items per CheckBatch. */
  readonly maxBatchSize: number;
  /** Updates plus preconditions per WriteRelationships. */
  readonly maxWriteUpdates: number;
  /** Bytes per HTTP body and per gRPC message received. */
  readonly maxBodyBytes: number;
  /** Ids per LookupResources page and relationships per ReadRelationships page; also the default. */
  readonly maxPageSize: number;
  /** Deadline applied when the caller sets none. */
  readonly defaultDeadlineMs: number;
  /** Nested evaluation steps (arrows, subject sets) before a check fails. */
  readonly maxDepth: number;
}

export interface GatehouseConfig {
  /** Directory holding the policy files. */
  readonly policies: string;
  readonly http: ListenAddress;
  readonly grpc: ListenAddress;
  /** Bearer token required by writes and admin calls; undefined leaves them open. */
  readonly token: string | undefined;
  /** Permit open writes on a listener reachable beyond loopback (explicit opt-in). */
  readonly allowUnauthenticatedWrites: boolean;
  readonly logLevel: LogLevel;
  /** How long SIGTERM waits for in-flight calls before closing connections. */
  readonly shutdownGraceMs: number;
  readonly limits: Limits;
  /** Redis URL: the relationships live in Redis, shared by every replica; undefined: the embedded memory store. */
  readonly redis: string | undefined;
  /** The store's name: one Redis holds many stores, each under its own hash tag. */
  readonly store: string;
  /** Readiness fails once replication lags by more than this (ms); 0: never. */
  readonly redisMaxLagMs: number;
  /** Redis replicas every write waits for (WAIT) before it is acknowledged; 0: none. */
  readonly redisWaitReplicas: number;
  /** Data directory of the memory store (write-ahead log + snapshot); undefined: writes live in memory only. */
  readonly dataDir: string | undefined;
}

export const DEFAULT_LIMITS: Limits = {
  maxBatchSize: 1000,
  maxWriteUpdates: 1000,
  maxBodyBytes: 4 * 1024 * 1024,
  maxPageSize: 1000,
  defaultDeadlineMs: 5000,
  maxDepth: 50,
};

export const DEFAULT_CONFIG: GatehouseConfig = {
  policies: './policies',
  http: { kind: 'tcp', host: '127.0.0.1', port: 8080 },
  grpc: { kind: 'tcp', host: '127.0.0.1', port: 50051 },
  token: undefined,
  allowUnauthenticatedWrites: false,
  logLevel: 'info',
  shutdownGraceMs: 10_000,
  limits: DEFAULT_LIMITS,
  redis: undefined,
  store: 'default',
  redisMaxLagMs: 0,
  redisWaitReplicas: 0,
  dataDir: undefined,
};
