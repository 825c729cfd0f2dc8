// Builds GatehouseConfig once from flags > GATEHOUSE_* env > YAML file > defaults, reporting
// every problem at once. The only module that reads process.env.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { GatehouseError } from '../errors.js';
import type { Scope } from '../service/auth/scopes.js';
import { parseTokenFile, TokenFileError, tokenProblem } from '../service/auth/token-file.js';
import { DEFAULT_CONFIG, type GatehouseConfig } from './config.js';
import { formatListenAddress, isLocalOnly, type ListenAddress } from './listen-address.js';
import { OPTIONS, type OptionSpec, parseOptionValue } from './options.js';

/** Everything the config is built from; injectable so tests need no process state. */
export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readTextFile: (path: string) => string;
}

/** The configuration is invalid; `problems` lists every one, one sentence each. */
export class ConfigError extends GatehouseError {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('INVALID_ARGUMENT', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

const CONFIG_FLAG = 'config';
const CONFIG_ENV = 'GATEHOUSE_CONFIG';

/** Build the config from this process's argv tail and environment. Throws ConfigError. */
export function loadConfig(argv: readonly string[]): GatehouseConfig {
  return buildConfig({ argv, env: process.env, readTextFile: (path) => readFileSync(path, 'utf8') });
}

/** Build and validate the config from explicit sources. Throws ConfigError listing every problem. */
export function buildConfig(sources: ConfigSources): GatehouseConfig {
  const problems: string[] = [];
  const flags = parseFlags(sources.argv, problems);
  const configPath = (flags[CONFIG_FLAG] as string | undefined) ?? nonEmpty(sources.env[CONFIG_ENV]);
  const file = configPath === undefined ? {} : readConfigFile(configPath, sources, problems);

  const values = new Map<string, unknown>();
  for (const spec of OPTIONS) {
    const picked = pickRaw(spec, flags, sources.env, file, configPath);
    if (picked === undefined) continue;
    const parsed = parseOptionValue(spec, picked.raw);
    if (parsed.ok) values.set(spec.key, parsed.value);
    else problems.push(`${picked.origin}: ${parsed.problem}`);
  }

  const { token, tokenFile } = resolveToken(values, sources, problems);
  const config: GatehouseConfig = {
    policies: (values.get('policies') as string | undefined) ?? DEFAULT_CONFIG.policies,
    http: (values.get('http') as ListenAddress | undefined) ?? DEFAULT_CONFIG.http,
    grpc: (values.get('grpc') as ListenAddress | undefined) ?? DEFAULT_CONFIG.grpc,
    token,
    tokenFile,
    openScopes: (values.get('openScopes') as Scope[] | undefined) ?? DEFAULT_CONFIG.openScopes,
    health: values.get('health') as ListenAddress | undefined,
    fileReloadMs: (values.get('fileReloadMs') as number | undefined) ?? DEFAULT_CONFIG.fileReloadMs,
    tls: resolveTls(values, problems),
    allowUnauthenticatedWrites:
      (values.get('allowUnauthenticatedWrites') as boolean | undefined) ??
      DEFAULT_CONFIG.allowUnauthenticatedWrites,
    logLevel: (values.get('logLevel') as GatehouseConfig['logLevel'] | undefined) ?? DEFAULT_CONFIG.logLevel,
    shutdownGraceMs: (values.get('shutdownGraceMs') as number | undefined) ?? DEFAULT_CONFIG.shutdownGraceMs,
    limits: {
      maxBatchSize: limit(values, 'maxBatchSize'),
      maxWriteUpdates: limit(values, 'maxWriteUpdates'),
      maxBodyBytes: limit(values, 'maxBodyBytes'),
      maxPageSize: limit(values, 'maxPageSize'),
      defaultDeadlineMs: limit(values, 'defaultDeadlineMs'),
      maxDepth: limit(values, 'maxDepth'),
    },
    redis: values.get('redis') as string | undefined,
    store: (values.get('store') as string | undefined) ?? DEFAULT_CONFIG.store,
    redisMaxLagMs: (values.get('redisMaxLagMs') as number | undefined) ?? DEFAULT_CONFIG.redisMaxLagMs,
    redisWaitReplicas:
      (values.get('redisWaitReplicas') as number | undefined) ?? DEFAULT_CONFIG.redisWaitReplicas,
    redisChangelogRetention: values.get('redisChangelogRetention') as number | undefined,
    redisChangelogMaxBytes: values.get('redisChangelogMaxBytes') as number | undefined,
    decisionLog: (values.get('decisionLog') as string | undefined) ?? DEFAULT_CONFIG.decisionLog,
    decisionLogSampleRate:
      (values.get('decisionLogSampleRate') as number | undefined) ?? DEFAULT_CONFIG.decisionLogSampleRate,
    decisionLogAlwaysDenials:
      (values.get('decisionLogAlwaysDenials') as boolean | undefined) ??
      DEFAULT_CONFIG.decisionLogAlwaysDenials,
    otel: (values.get('otel') as boolean | undefined) ?? DEFAULT_CONFIG.otel,
    dataDir: values.get('dataDir') as string | undefined,
    authzenBaseUrl: authzenBaseUrl(values.get('authzenBaseUrl') as string | undefined, problems),
    expirySweepIntervalMs:
      (values.get('expirySweepIntervalMs') as number | undefined) ?? DEFAULT_CONFIG.expirySweepIntervalMs,
    expirySweepBatchSize:
      (values.get('expirySweepBatchSize') as number | undefined) ?? DEFAULT_CONFIG.expirySweepBatchSize,
  };
  problems.push(...storeProblems(config));
  problems.push(...crossCheck(config));
  if (config.dataDir !== undefined && config.redis !== undefined)
    problems.push('dataDir: --data-dir is for the memory store; with --redis the data lives in Redis');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The AuthZEN PDP identifier: an absolute http(s) URL without query or fragment (the spec asks
 * for https; plain http is accepted for a loopback sidecar), kept without a trailing slash.
 */
function authzenBaseUrl(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`authzenBaseUrl: '${raw}' is not an absolute URL (https://pdp.example.com)`);
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`authzenBaseUrl: '${raw}' must be an https (or http) URL`);
    return undefined;
  }
  if (url.search !== '' || url.hash !== '' || raw.includes('?') || raw.includes('#')) {
    problems.push(`authzenBaseUrl: '${raw}' must have no query or fragment`);
    return undefined;
  }
  return url.href.replace(/\/+$/, '');
}

function limit(values: Map<string, unknown>, name: keyof GatehouseConfig['limits']): number {
  return (values.get(`limits.${name}`) as number | undefined) ?? DEFAULT_CONFIG.limits[name];
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

function parseFlags(
  argv: readonly string[],
  problems: string[],
): Record<string, string | boolean | undefined> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { [CONFIG_FLAG]: { type: 'string' } };
  for (const spec of OPTIONS) {
    if (spec.flag !== undefined)
      options[spec.flag] = { type: spec.kind === 'boolean' ? 'boolean' : 'string' };
  }
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (err) {
    // parseArgs names the offending flag; keep its sentence and point at --help.
    problems.push(`${(err as Error).message} (run 'gatehouse serve --help' for the flags)`);
    return {};
  }
}

function readConfigFile(path: string, sources: ConfigSources, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = sources.readTextFile(path);
  } catch (err) {
    problems.push(`config file '${path}' cannot be read: ${(err as Error).message}`);
    return {};
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    problems.push(`config file '${path}' is not valid YAML: ${(err as Error).message}`);
    return {};
  }
  if (doc === null || doc === undefined) return {};
  if (!isPlainObject(doc)) {
    problems.push(`config file '${path}' must be a YAML mapping of settings such as 'http: 127.0.0.1:8080'`);
    return {};
  }
  reportUnknownKeys(doc, '', path, problems);
  return doc;
}

const KNOWN_KEYS = new Set(OPTIONS.map((o) => o.key));
const KNOWN_SECTIONS = new Set(OPTIONS.filter((o) => o.key.includes('.')).map((o) => o.key.split('.')[0]));

function reportUnknownKeys(
  doc: Record<string, unknown>,
  prefix: string,
  path: string,
  problems: string[],
): void {
  for (const [k, v] of Object.entries(doc)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (prefix === '' && KNOWN_SECTIONS.has(k)) {
      if (isPlainObject(v)) reportUnknownKeys(v, key, path, problems);
      else problems.push(`config file '${path}': '${key}' must be a mapping`);
    } else if (!KNOWN_KEYS.has(key)) {
      problems.push(`config file '${path}': unknown setting '${key}' (known: ${[...KNOWN_KEYS].join(', ')})`);
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fileValue(file: Record<string, unknown>, key: string): unknown {
  let node: unknown = file;
  for (const part of key.split('.')) {
    // Own keys only: a file's value must never be read from Object.prototype.
    if (!isPlainObject(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node ?? undefined;
}

function pickRaw(
  spec: OptionSpec,
  flags: Record<string, string | boolean | undefined>,
  env: ConfigSources['env'],
  file: Record<string, unknown>,
  configPath: string | undefined,
): { raw: unknown; origin: string } | undefined {
  const flagValue = spec.flag === undefined ? undefined : flags[spec.flag];
  if (flagValue !== undefined) return { raw: flagValue, origin: `--${spec.flag}` };
  const envValue = nonEmpty(env[spec.env]);
  if (envValue !== undefined) return { raw: envValue, origin: spec.env };
  const fromFile = fileValue(file, spec.key);
  if (fromFile !== undefined) return { raw: fromFile, origin: `config file '${configPath}' ${spec.key}` };
  return undefined;
}

/**
 * GATEHOUSE_TOKEN (trimmed, as presented tokens are) or the token file, checked now so a bad
 * token refuses to start; the file is read again at run time to follow rotation.
 */
function resolveToken(
  values: Map<string, unknown>,
  sources: ConfigSources,
  problems: string[],
): { token: string | undefined; tokenFile: string | undefined } {
  const raw = values.get('token') as string | undefined;
  const tokenFile = values.get('tokenFile') as string | undefined;
  if (raw !== undefined && tokenFile !== undefined) {
    problems.push('both a token and a token file are set: keep only one (GATEHOUSE_TOKEN or --token-file)');
    return { token: undefined, tokenFile: undefined };
  }
  const token = raw?.trim();
  if (token !== undefined) {
    const bad = tokenProblem(token);
    if (bad !== undefined) problems.push(`GATEHOUSE_TOKEN: ${bad}`);
    return { token: bad === undefined ? token : undefined, tokenFile: undefined };
  }
  if (tokenFile === undefined) return { token: undefined, tokenFile: undefined };
  let text: string;
  try {
    text = sources.readTextFile(tokenFile);
  } catch (err) {
    problems.push(`token file '${tokenFile}' cannot be read: ${(err as Error).message}`);
    return { token: undefined, tokenFile };
  }
  try {
    parseTokenFile(tokenFile, text);
  } catch (err) {
    if (!(err instanceof TokenFileError)) throw err;
    problems.push(err.message);
  }
  return { token: undefined, tokenFile };
}

/** The TLS files: certificate and key together, a client CA only with them. */
function resolveTls(values: Map<string, unknown>, problems: string[]): GatehouseConfig['tls'] {
  const cert = values.get('tlsCert') as string | undefined;
  const key = values.get('tlsKey') as string | undefined;
  const clientCa = values.get('tlsClientCa') as string | undefined;
  if (cert === undefined && key === undefined) {
    if (clientCa !== undefined)
      problems.push('--tls-client-ca needs --tls-cert and --tls-key: set all three');
    return undefined;
  }
  if (cert === undefined || key === undefined) {
    problems.push('--tls-cert and --tls-key go together: set both (or neither, for plaintext)');
    return undefined;
  }
  return { cert, key, clientCa };
}

function sameAddress(a: ListenAddress, b: ListenAddress): boolean {
  if (a.kind === 'unix' || b.kind === 'unix')
    return a.kind === b.kind && formatListenAddress(a) === formatListenAddress(b);
  return a.port !== 0 && a.port === b.port && a.host === b.host;
}

/** Rules spanning several settings. */
function crossCheck(config: GatehouseConfig): string[] {
  const problems: string[] = [];
  if (sameAddress(config.http, config.grpc)) {
    problems.push(
      `http and grpc both listen on ${formatListenAddress(config.http)}: give them different addresses`,
    );
  }
  if (config.health !== undefined) {
    for (const [name, address] of [
      ['http', config.http],
      ['grpc', config.grpc],
    ] as const) {
      if (sameAddress(config.health, address)) {
        problems.push(
          `health and ${name} both listen on ${formatListenAddress(address)}: give them different addresses`,
        );
      }
    }
  }
  const tokens = config.token !== undefined || config.tokenFile !== undefined;
  // Without tokens every call is open; with them, only the scopes opened explicitly.
  const writesOpen = !tokens || (config.openScopes ?? []).includes('write');
  if (writesOpen && !config.allowUnauthenticatedWrites) {
    for (const [name, address] of [
      ['http', config.http],
      ['grpc', config.grpc],
    ] as const) {
      if (!isLocalOnly(address)) {
        problems.push(
          `refusing to serve ${name} on ${formatListenAddress(address)} (reachable beyond loopback) with ${tokens ? 'writes' : 'every call'} open: ` +
            'set GATEHOUSE_TOKEN (or --token-file), or pass --allow-unauthenticated-writes to accept that risk',
        );
      }
    }
  }
  return problems;
}

/** The store name travels in revision tokens and Redis keys; the URL must name a Redis. */
function storeProblems(config: GatehouseConfig): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(config.store)) {
    problems.push(`store: must be 1 to 64 letters, digits, '_' or '-', got '${config.store}'`);
  }
  if (
    config.redis !== undefined &&
    !/^(redis|rediss|redis\+sentinel|redis\+cluster):\/\//.test(config.redis)
  ) {
    problems.push(
      'redis: must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL (see docs/configuration.md)',
    );
  }
  for (const key of ['redisChangelogRetention', 'redisChangelogMaxBytes'] as const) {
    if (config[key] !== undefined && config.redis === undefined) {
      problems.push(
        `${key}: sizes the Redis changelog, so it needs --redis (the memory store keeps its own)`,
      );
    }
  }
  return problems;
}
