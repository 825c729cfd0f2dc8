// The one typed configuration object of `gatehouse serve`, and its documented defaults.
import type { Scope } from '../service/auth/scopes.js';
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
  /** A bearer token with every scope (GATEHOUSE_TOKEN, trimmed). */
  readonly token: string | undefined;
  /** A file of `TOKEN [SCOPE...]` lines, re-read every `fileReloadMs`. */
  readonly tokenFile?: string | undefined;
  /** Scopes that need no token when tokens are configured (with none, every call is open). */
  readonly openScopes?: readonly Scope[] | undefined;
  /** The health listener (/healthz, /readyz, /metrics only); unset, the HTTP API serves them. */
  readonly health?: ListenAddress | undefined;
  /** How often the token and TLS files are re-read. */
  readonly fileReloadMs?: number | undefined;
  /** TLS on every listener; with `clientCa`, mutual TLS on the API listeners. Unset: plaintext. */
  readonly tls?:
    | { readonly cert: string; readonly key: string; readonly clientCa?: string | undefined }
    | undefined;
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
  /** Change sets the Redis changelog keeps; undefined: the store's default (10 000). */
  readonly redisChangelogRetention?: number | undefined;
  /** Bytes of change lines the Redis changelog keeps; 0: bounded by entries alone; undefined: 16 MiB. */
  readonly redisChangelogMaxBytes?: number | undefined;
  /** Decision log destination: 'off', 'stdout' or a file path. */
  readonly decisionLog: string;
  /** Fraction of decisions logged, 0..1. */
  readonly decisionLogSampleRate: number;
  /** Log every denial whatever the sample rate. */
  readonly decisionLogAlwaysDenials: boolean;
  /** OpenTelemetry request spans on the globally registered tracer provider. */
  readonly otel: boolean;
  /** Data directory of the memory store (write-ahead log + snapshot); undefined: writes live in memory only. */
  readonly dataDir: string | undefined;
  /** The AuthZEN PDP base URL published by /.well-known/authzen-configuration; undefined: not published. */
  readonly authzenBaseUrl?: string | undefined;
  /** Ms between sweeps deleting expired relationships; 0: off. Absent: the default. */
  readonly expirySweepIntervalMs?: number | undefined;
  /** Most expired relationships one sweep deletes. Absent: the default. */
  readonly expirySweepBatchSize?: number | undefined;
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
  tokenFile: undefined,
  openScopes: [],
  health: undefined,
  fileReloadMs: 1000,
  redis: undefined,
  store: 'default',
  redisMaxLagMs: 0,
  redisWaitReplicas: 0,
  decisionLog: 'off',
  decisionLogSampleRate: 1,
  decisionLogAlwaysDenials: true,
  otel: false,
  dataDir: undefined,
  authzenBaseUrl: undefined,
  expirySweepIntervalMs: 60_000,
  expirySweepBatchSize: 500,
};
