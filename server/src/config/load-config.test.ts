// Config precedence (flags > env > file > defaults), validation that reports every problem,
// the loopback-without-token guard, and redaction.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './config.js';
import { buildConfig, ConfigError, type ConfigSources } from './load-config.js';
import { redactConfig } from './redact.js';
import { serveUsage } from './usage.js';

function sources(
  argv: string[] = [],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): ConfigSources {
  return {
    argv,
    env,
    readTextFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file '${path}'`);
      return text;
    },
  };
}

function problems(s: ConfigSources): readonly string[] {
  try {
    buildConfig(s);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('buildConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    expect(buildConfig(sources())).toEqual(DEFAULT_CONFIG);
  });

  it('takes flags over env over file', () => {
    const file = 'http: 127.0.0.1:1001\ngrpc: 127.0.0.1:2001\nlimits:\n  maxBatchSize: 10\n  maxDepth: 7\n';
    const config = buildConfig(
      sources(
        ['--config', 'c.yaml', '--http', '127.0.0.1:1003', '--max-batch-size', '30'],
        {
          GATEHOUSE_HTTP: '127.0.0.1:1002',
          GATEHOUSE_GRPC: 'unix:/tmp/g.sock',
          GATEHOUSE_MAX_BATCH_SIZE: '20',
        },
        { 'c.yaml': file },
      ),
    );
    expect(config.http).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 1003 });
    expect(config.grpc).toEqual({ kind: 'unix', path: '/tmp/g.sock' });
    expect(config.limits.maxBatchSize).toBe(30);
    expect(config.limits.maxDepth).toBe(7);
  });

  it('reports every problem at once, naming where each value came from', () => {
    const found = problems(
      sources(
        ['--max-batch-size', '0', '--http', 'nowhere'],
        { GATEHOUSE_LOG_LEVEL: 'loud' },
        { 'c.yaml': 'limitz: 1\n' },
      ),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--max-batch-size: must be a whole number from 1/),
        expect.stringMatching(/^--http: 'nowhere' is not HOST:PORT/),
        expect.stringMatching(/^GATEHOUSE_LOG_LEVEL: must be one of/),
      ]),
    );
    expect(found).toHaveLength(3);
    expect(problems(sources(['--config', 'c.yaml'], {}, { 'c.yaml': 'limitz: 1\n' }))[0]).toMatch(
      /unknown setting 'limitz'/,
    );
  });

  it('rejects unknown flags and a token passed as a flag', () => {
    expect(problems(sources(['--token', 'x']))[0]).toMatch(/token/);
    expect(problems(sources(['--bogus']))[0]).toMatch(/bogus/);
  });

  it('refuses to listen beyond loopback with writes open, unless told so explicitly', () => {
    const open = sources(['--http', '0.0.0.0:8080']);
    expect(problems(open)[0]).toMatch(/refusing to serve http on 0\.0\.0\.0:8080.*GATEHOUSE_TOKEN/);
    expect(
      buildConfig(sources(['--http', '0.0.0.0:8080', '--allow-unauthenticated-writes']))
        .allowUnauthenticatedWrites,
    ).toBe(true);
    expect(buildConfig(sources(['--http', '0.0.0.0:8080'], { GATEHOUSE_TOKEN: 's3cret' })).token).toBe(
      's3cret',
    );
    expect(buildConfig(sources(['--grpc', 'unix:/run/g.sock'])).grpc.kind).toBe('unix');
  });

  it('trims GATEHOUSE_TOKEN and refuses one of only spaces, which no client could present', () => {
    expect(buildConfig(sources([], { GATEHOUSE_TOKEN: '  abc  ' })).token).toBe('abc');
    expect(problems(sources([], { GATEHOUSE_TOKEN: '   ' }))[0]).toMatch(
      /GATEHOUSE_TOKEN: the token is empty/,
    );
    expect(problems(sources([], { GATEHOUSE_TOKEN: 'a b' }))[0]).toMatch(/without spaces/);
  });

  it('reads open scopes and the health listener, and checks them', () => {
    const c = buildConfig(sources(['--open-scopes', 'check, read', '--health', '0.0.0.0:9090']));
    expect(c.openScopes).toEqual(['check', 'read']);
    expect(c.health).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 9090 });
    expect(problems(sources(['--open-scopes', 'check,everything']))[0]).toMatch(/unknown scope 'everything'/);
    expect(problems(sources(['--health', '127.0.0.1:8080']))[0]).toMatch(/health and http both listen/);
    // Opening writes beyond loopback needs the explicit opt-in even with tokens configured.
    expect(
      problems(sources(['--http', '0.0.0.0:8080', '--open-scopes', 'write'], { GATEHOUSE_TOKEN: 't' }))[0],
    ).toMatch(/writes open/);
  });

  it('takes the TLS certificate and key together, and a client CA only with them', () => {
    expect(buildConfig(sources(['--tls-cert', 'c.pem', '--tls-key', 'k.pem'])).tls).toEqual({
      cert: 'c.pem',
      key: 'k.pem',
      clientCa: undefined,
    });
    expect(problems(sources(['--tls-cert', 'c.pem']))[0]).toMatch(/go together/);
    expect(problems(sources(['--tls-client-ca', 'ca.pem']))[0]).toMatch(/needs --tls-cert and --tls-key/);
  });

  it('reads the token from a file and refuses two token sources', () => {
    expect(buildConfig(sources(['--token-file', 't'], {}, { t: '  abc\n' })).tokenFile).toBe('t');
    expect(problems(sources(['--token-file', 't'], {}, { t: '# none yet\n' }))[0]).toMatch(
      /no token in the file/,
    );
    expect(problems(sources(['--token-file', 't'], {}, { t: 'abc rule\n' }))[0]).toMatch(
      /line 1: unknown scope 'rule'/,
    );
    expect(problems(sources(['--token-file', 't'], { GATEHOUSE_TOKEN: 'x' }, { t: 'abc' }))[0]).toMatch(
      /keep only one/,
    );
    expect(problems(sources(['--token-file', 'missing']))[0]).toMatch(/token file 'missing' cannot be read/);
  });

  it('refuses the same address for both listeners', () => {
    expect(problems(sources(['--http', '127.0.0.1:9000', '--grpc', '127.0.0.1:9000']))[0]).toMatch(
      /both listen/,
    );
    expect(buildConfig(sources(['--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0'])).http).toEqual({
      kind: 'tcp',
      host: '127.0.0.1',
      port: 0,
    });
  });

  it('parses IPv6 listeners in brackets', () => {
    expect(buildConfig(sources(['--http', '[::1]:0'])).http).toEqual({ kind: 'tcp', host: '::1', port: 0 });
    expect(problems(sources(['--http', '::1:80']))[0]).toMatch(/brackets/);
  });
});

describe('redactConfig and usage', () => {
  it('never prints the token', () => {
    const config = buildConfig(sources([], { GATEHOUSE_TOKEN: 'super-secret-value' }));
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('super-secret-value');
    expect(printed).toContain('(redacted)');
  });

  it('lists every flag with its env variable', () => {
    const usage = serveUsage();
    expect(usage).toContain('--max-batch-size VALUE');
    expect(usage).toContain('[GATEHOUSE_MAX_BATCH_SIZE]');
    expect(usage).toContain('(default 127.0.0.1:8080)');
  });

  it('reads the store settings from flags, env and file', () => {
    const config = buildConfig(
      sources(['--redis', 'redis://127.0.0.1:7001/0', '--store', 'crm', '--redis-max-lag', '5000'], {
        GATEHOUSE_REDIS_WAIT_REPLICAS: '1',
      }),
    );
    expect(config).toMatchObject({
      redis: 'redis://127.0.0.1:7001/0',
      store: 'crm',
      redisMaxLagMs: 5000,
      redisWaitReplicas: 1,
    });
    expect(buildConfig(sources(['--config', 'c.yaml'], {}, { 'c.yaml': 'store: tenant_2\n' }))).toMatchObject(
      {
        store: 'tenant_2',
        redis: undefined,
      },
    );
  });

  it('reads the Redis changelog bounds, and refuses them without --redis', () => {
    const config = buildConfig(
      sources(['--redis', 'redis://127.0.0.1:7001/0', '--redis-changelog-retention', '50000'], {
        GATEHOUSE_REDIS_CHANGELOG_MAX_BYTES: '0',
      }),
    );
    expect(config).toMatchObject({ redisChangelogRetention: 50_000, redisChangelogMaxBytes: 0 });
    expect(buildConfig(sources(['--redis', 'redis://h:1']))).toMatchObject({
      redisChangelogRetention: undefined,
      redisChangelogMaxBytes: undefined,
    });
    expect(problems(sources(['--redis-changelog-retention', '100']))).toEqual([
      'redisChangelogRetention: sizes the Redis changelog, so it needs --redis (the memory store keeps its own)',
    ]);
    expect(problems(sources(['--redis', 'redis://h:1', '--redis-changelog-retention', '0']))[0]).toMatch(
      /--redis-changelog-retention/,
    );
  });

  it('refuses a store name that cannot travel in tokens and keys, and a URL that is not Redis', () => {
    expect(problems(sources(['--store', 'a.b']))).toEqual([
      "store: must be 1 to 64 letters, digits, '_' or '-', got 'a.b'",
    ]);
    expect(problems(sources(['--redis', 'http://x']))[0]).toMatch(/redis: must be a redis:\/\//);
    expect(problems(sources(['--redis-wait-replicas', '-1']))[0]).toMatch(/--redis-wait-replicas/);
  });

  it('never prints a Redis password', () => {
    const config = buildConfig(sources([], { GATEHOUSE_REDIS: 'rediss://app:s3cret@redis.internal:6380/2' }));
    const shown = JSON.stringify(redactConfig(config));
    expect(shown).not.toContain('s3cret');
    expect(shown).toContain('rediss://app:(redacted)@redis.internal:6380/2');
  });
});
