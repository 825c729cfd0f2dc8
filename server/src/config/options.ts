// The table of every `serve` setting: its config key, flag, env variable and value parser.
// Flags, env, file and docs all derive from this one table so they cannot drift apart.
import { parseScopeList } from '../service/auth/scopes.js';
import { LOG_LEVELS } from './config.js';
import { parseListenAddress } from './listen-address.js';

/** A parsed value, or a sentence saying what is wrong with the input. */
export type ParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problem: string };

export interface OptionSpec {
  /** Dotted key in GatehouseConfig and in the YAML file: `limits.maxBatchSize`. */
  readonly key: string;
  /** Long flag name without dashes; absent for settings that must not appear in `ps` output. */
  readonly flag?: string | undefined;
  readonly env: string;
  readonly kind: 'string' | 'boolean' | 'integer' | 'address' | 'logLevel' | 'scopes' | 'fraction';
  readonly min?: number;
  readonly max?: number;
  /** Never printed: redacted in the start-up log. */
  readonly secret?: boolean;
  readonly description: string;
}

const MAX_INT = 2 ** 31 - 1;

export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'policies',
    flag: 'policies',
    env: 'GATEHOUSE_POLICIES',
    kind: 'string',
    description: 'Directory of policy files.',
  },
  {
    key: 'http',
    flag: 'http',
    env: 'GATEHOUSE_HTTP',
    kind: 'address',
    description: 'HTTP listener: HOST:PORT or unix:/path; port 0 picks a free port.',
  },
  {
    key: 'grpc',
    flag: 'grpc',
    env: 'GATEHOUSE_GRPC',
    kind: 'address',
    description: 'gRPC listener: HOST:PORT or unix:/path; port 0 picks a free port.',
  },
  {
    key: 'token',
    env: 'GATEHOUSE_TOKEN',
    kind: 'string',
    secret: true,
    description: 'Bearer token required by writes and admin calls (env or file only, never a flag).',
  },
  {
    key: 'tokenFile',
    flag: 'token-file',
    env: 'GATEHOUSE_TOKEN_FILE',
    kind: 'string',
    description:
      'File of bearer tokens, one `TOKEN [SCOPE...]` per line (a mounted Secret); re-read when it changes.',
  },
  {
    key: 'allowUnauthenticatedWrites',
    flag: 'allow-unauthenticated-writes',
    env: 'GATEHOUSE_ALLOW_UNAUTHENTICATED_WRITES',
    kind: 'boolean',
    description: 'Permit writes without a token on a listener reachable beyond loopback.',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'GATEHOUSE_LOG_LEVEL',
    kind: 'logLevel',
    description: `Log level: ${LOG_LEVELS.join(', ')}.`,
  },
  {
    key: 'shutdownGraceMs',
    flag: 'shutdown-grace-ms',
    env: 'GATEHOUSE_SHUTDOWN_GRACE_MS',
    kind: 'integer',
    min: 0,
    max: 600_000,
    description: 'Time SIGTERM waits for in-flight calls to finish.',
  },
  {
    key: 'limits.maxBatchSize',
    flag: 'max-batch-size',
    env: 'GATEHOUSE_MAX_BATCH_SIZE',
    kind: 'integer',
    min: 1,
    max: 1_000_000,
    description: 'Items per CheckBatch.',
  },
  {
    key: 'limits.maxWriteUpdates',
    flag: 'max-write-updates',
    env: 'GATEHOUSE_MAX_WRITE_UPDATES',
    kind: 'integer',
    min: 1,
    max: 1_000_000,
    description: 'Updates plus preconditions per WriteRelationships.',
  },
  {
    key: 'limits.maxBodyBytes',
    flag: 'max-body-bytes',
    env: 'GATEHOUSE_MAX_BODY_BYTES',
    kind: 'integer',
    min: 1024,
    max: MAX_INT,
    description: 'Bytes per HTTP request body and per received gRPC message.',
  },
  {
    key: 'limits.maxPageSize',
    flag: 'max-page-size',
    env: 'GATEHOUSE_MAX_PAGE_SIZE',
    kind: 'integer',
    min: 1,
    max: 1_000_000,
    description: 'Results per LookupResources / ReadRelationships page (and the default).',
  },
  {
    key: 'limits.defaultDeadlineMs',
    flag: 'default-deadline-ms',
    env: 'GATEHOUSE_DEFAULT_DEADLINE_MS',
    kind: 'integer',
    min: 1,
    max: 3_600_000,
    description: 'Request deadline when the caller sets none.',
  },
  {
    key: 'limits.maxDepth',
    flag: 'max-depth',
    env: 'GATEHOUSE_MAX_DEPTH',
    kind: 'integer',
    min: 1,
    max: 100_000,
    description: 'Nested evaluation steps before a check fails with RESOURCE_EXHAUSTED.',
  },
  {
    key: 'openScopes',
    flag: 'open-scopes',
    env: 'GATEHOUSE_OPEN_SCOPES',
    kind: 'scopes',
    description: 'Scopes (check, read, write, admin) that need no token even when tokens are configured.',
  },
  {
    key: 'health',
    flag: 'health',
    env: 'GATEHOUSE_HEALTH',
    kind: 'address',
    description:
      'Health listener serving only /healthz, /readyz and /metrics; when set, the HTTP API no longer serves them.',
  },
  {
    key: 'fileReloadMs',
    flag: 'file-reload-ms',
    env: 'GATEHOUSE_FILE_RELOAD_MS',
    kind: 'integer',
    min: 10,
    max: 3_600_000,
    description: 'How often the token file and TLS files are re-read to pick up rotation.',
  },
  {
    key: 'tlsCert',
    flag: 'tls-cert',
    env: 'GATEHOUSE_TLS_CERT',
    kind: 'string',
    description:
      'PEM certificate chain: every listener serves TLS (with --tls-key); re-read when it changes.',
  },
  {
    key: 'tlsKey',
    flag: 'tls-key',
    env: 'GATEHOUSE_TLS_KEY',
    kind: 'string',
    description: 'PEM private key of --tls-cert.',
  },
  {
    key: 'tlsClientCa',
    flag: 'tls-client-ca',
    env: 'GATEHOUSE_TLS_CLIENT_CA',
    kind: 'string',
    description: 'PEM CA bundle: the API listeners require client certificates it signed (mutual TLS).',
  },
  {
    key: 'redis',
    flag: 'redis',
    env: 'GATEHOUSE_REDIS',
    kind: 'string',
    description:
      'Keep relationships in Redis, shared by every replica: redis://host:port/db, rediss://..., redis+sentinel://host:port,host:port/master or redis+cluster://host:port,host:port. Unset: the embedded memory store.',
  },
  {
    key: 'store',
    flag: 'store',
    env: 'GATEHOUSE_STORE',
    kind: 'string',
    description: 'Name of the store this replica serves (one Redis holds many); default `default`.',
  },
  {
    key: 'redisMaxLagMs',
    flag: 'redis-max-lag',
    env: 'GATEHOUSE_REDIS_MAX_LAG_MS',
    kind: 'integer',
    min: 0,
    max: 86_400_000,
    description:
      'Readiness fails once replication lags the store by more than this many ms; 0 never fails it.',
  },
  {
    key: 'redisWaitReplicas',
    flag: 'redis-wait-replicas',
    env: 'GATEHOUSE_REDIS_WAIT_REPLICAS',
    kind: 'integer',
    min: 0,
    max: 100,
    description:
      'Redis replicas each write waits for (WAIT) before it is acknowledged, so it survives a failover.',
  },
  {
    key: 'redisChangelogRetention',
    flag: 'redis-changelog-retention',
    env: 'GATEHOUSE_REDIS_CHANGELOG_RETENTION',
    kind: 'integer',
    min: 1,
    max: 100_000_000,
    description:
      'Change sets the Redis changelog keeps (default 10000): a replica or snapshot read further behind resyncs.',
  },
  {
    key: 'redisChangelogMaxBytes',
    flag: 'redis-changelog-max-bytes',
    env: 'GATEHOUSE_REDIS_CHANGELOG_MAX_BYTES',
    kind: 'integer',
    min: 0,
    max: MAX_INT,
    description:
      'Bytes of change lines the Redis changelog keeps at most (default 16777216); 0 bounds it by change sets alone.',
  },
  {
    key: 'decisionLog',
    flag: 'decision-log',
    env: 'GATEHOUSE_DECISION_LOG',
    kind: 'string',
    description:
      'Decision logs (one JSON line per decision, docs/decision-logs.md): off, stdout, or a file path to append to. Default off.',
  },
  {
    key: 'decisionLogSampleRate',
    flag: 'decision-log-sample-rate',
    env: 'GATEHOUSE_DECISION_LOG_SAMPLE_RATE',
    kind: 'fraction',
    description: 'Fraction of decisions logged, 0 to 1. Default 1.',
  },
  {
    key: 'decisionLogAlwaysDenials',
    flag: 'decision-log-always-denials',
    env: 'GATEHOUSE_DECISION_LOG_ALWAYS_DENIALS',
    kind: 'boolean',
    description: 'Log every denial whatever the sample rate. Default true.',
  },
  {
    key: 'otel',
    flag: 'otel',
    env: 'GATEHOUSE_OTEL',
    kind: 'boolean',
    description:
      'OpenTelemetry: a span per request (parent from W3C traceparent) on the tracer provider the deployer registers (docs/tracing.md). Default off.',
  },
  {
    key: 'dataDir',
    flag: 'data-dir',
    env: 'GATEHOUSE_DATA_DIR',
    kind: 'string',
    description:
      'Memory store data directory: every acknowledged write is fsynced to a write-ahead log there and survives a restart.',
  },
  {
    key: 'authzenBaseUrl',
    flag: 'authzen-base-url',
    env: 'GATEHOUSE_AUTHZEN_BASE_URL',
    kind: 'string',
    description:
      'The URL AuthZEN PEPs reach this server at (https://pdp.example.com): published by /.well-known/authzen-configuration (docs/authzen.md). Unset: not published.',
  },
  {
    key: 'expirySweepIntervalMs',
    flag: 'expiry-sweep-interval',
    env: 'GATEHOUSE_EXPIRY_SWEEP_INTERVAL_MS',
    kind: 'integer',
    min: 0,
    max: 86_400_000,
    description:
      'Ms between background sweeps that delete expired relationships from the store (they stop granting at their expiry regardless); 0 turns sweeping off.',
  },
  {
    key: 'expirySweepBatchSize',
    flag: 'expiry-sweep-batch',
    env: 'GATEHOUSE_EXPIRY_SWEEP_BATCH',
    kind: 'integer',
    min: 1,
    max: 10_000,
    description: 'Most expired relationships one sweep deletes (in one write).',
  },
];

/** Parse one raw value (a flag/env string, or a YAML scalar) for `spec`. */
export function parseOptionValue(spec: OptionSpec, raw: unknown): ParseResult {
  switch (spec.kind) {
    case 'string':
      if (typeof raw !== 'string' || raw === '') return { ok: false, problem: 'must be a non-empty string' };
      return { ok: true, value: raw };
    case 'boolean':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 'true' || raw === '1') return { ok: true, value: true };
      if (raw === 'false' || raw === '0') return { ok: true, value: false };
      return { ok: false, problem: `must be true or false, got '${String(raw)}'` };
    case 'integer': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^-?\d+$/.test(raw)
            ? Number(raw)
            : Number.NaN;
      const min = spec.min ?? 0;
      const max = spec.max ?? MAX_INT;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        return { ok: false, problem: `must be a whole number from ${min} to ${max}, got '${String(raw)}'` };
      }
      return { ok: true, value: n };
    }
    case 'address': {
      if (typeof raw !== 'string') return { ok: false, problem: 'must be HOST:PORT or unix:/path' };
      const parsed = parseListenAddress(raw);
      return typeof parsed === 'string' ? { ok: false, problem: parsed } : { ok: true, value: parsed };
    }
    case 'scopes': {
      const text = Array.isArray(raw) && raw.every((r) => typeof r === 'string') ? raw.join(',') : raw;
      if (typeof text !== 'string')
        return { ok: false, problem: 'must be a list of scopes such as check,read' };
      const scopes = parseScopeList(text);
      return typeof scopes === 'string' ? { ok: false, problem: scopes } : { ok: true, value: scopes };
    }
    case 'logLevel':
      if (typeof raw === 'string' && (LOG_LEVELS as readonly string[]).includes(raw))
        return { ok: true, value: raw };
      return { ok: false, problem: `must be one of ${LOG_LEVELS.join(', ')}, got '${String(raw)}'` };
    case 'fraction': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw)
            ? Number(raw)
            : Number.NaN;
      if (!(n >= 0 && n <= 1))
        return { ok: false, problem: `must be a number from 0 to 1, got '${String(raw)}'` };
      return { ok: true, value: n };
    }
  }
}
