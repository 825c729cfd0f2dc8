import { spawnSync } from 'node:child_process';
// The deployment files cannot be exercised here (no container engine, no cluster), so this
// checks what can drift silently: Dockerfile paths and settings against the repository and
// the serve options table, the Kubernetes manifests' wiring, and the example policies.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { OPTIONS } from '../../server/src/config/options.js';
import { compilePolicySet } from '../../server/src/policy/index.js';
import { runPolicyTests } from '../../server/src/testing/index.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const KNOWN_ENV = new Set(OPTIONS.map((o) => o.env));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function dockerInstructions(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const space = line.search(/\s/);
      return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

/** `ENV A=1 B=2` pairs (the only ENV form the Dockerfile uses). */
function envPairs(args: string): Array<[string, string]> {
  return args.split(/\s+/).map((pair) => {
    const eq = pair.indexOf('=');
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

/** A .dockerignore pattern as a RegExp over context-relative paths: `**`, `*`, and whole directories. */
function ignorePattern(pattern: string): RegExp {
  const parts = pattern.replace(/^\/+|\/+$/g, '').split('/');
  const body = parts
    .map((part, i) => {
      if (part === '**') return '(?:[^/]+/)*';
      const literal = part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
      return i < parts.length - 1 ? `${literal}/` : literal;
    })
    .join('');
  // A pattern naming a directory excludes everything beneath it.
  return new RegExp(`^${body}(?:/.*)?$`);
}

function isIgnored(path: string, patterns: readonly RegExp[]): boolean {
  return patterns.some((p) => p.test(path));
}

type Yaml = Record<string, unknown>;
const asRecord = (v: unknown): Yaml => v as Yaml;
const asList = (v: unknown): Yaml[] => (v ?? []) as Yaml[];

function yamlDocuments(path: string): Yaml[] {
  const docs = parseAllDocuments(read(path));
  for (const doc of docs) expect(doc.errors.map((e) => e.message)).toEqual([]);
  return docs.map((d) => d.toJS() as Yaml).filter((d) => d !== null);
}

describe('deploy/Dockerfile', () => {
  const instructions = dockerInstructions(read('deploy/Dockerfile'));
  const of = (keyword: string): Instruction[] => instructions.filter((i) => i.keyword === keyword);
  const dockerignore = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map(ignorePattern);

  it('is multi-stage on node:20-slim', () => {
    expect(read('deploy/Dockerfile')).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m);
    const stages = of('FROM').map((i) => i.args);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const from of stages) expect(from).toMatch(/^\$\{NODE_IMAGE\} AS \w+$/);
  });

  it('copies only context paths that exist and that .dockerignore lets through', () => {
    const sources = of('COPY')
      .filter((i) => !i.args.startsWith('--from'))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
      expect(isIgnored(source, dockerignore), `${source} is not in .dockerignore`).toBe(false);
    }
  });

  it('runs `npm ci` and the server build script that produces the entrypoint', () => {
    const runs = of('RUN').map((i) => i.args);
    expect(runs.some((r) => r.startsWith('npm ci'))).toBe(true);
    expect(runs).toContain('npm run build --workspace server');
    const serverPackage = JSON.parse(read('server/package.json')) as { scripts: Record<string, string> };
    expect(serverPackage.scripts.build).toMatch(/tsc -p tsconfig\.json/);
    // tsc maps server/src/X.ts to server/dist/X.js (rootDir src, outDir dist).
    const tsconfig = JSON.parse(read('server/tsconfig.json')) as { compilerOptions: Record<string, string> };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(ROOT, 'server/src/cli/main.ts'))).toBe(true);
    expect(of('ENTRYPOINT').map((i) => JSON.parse(i.args))).toEqual([
      ['node', '--no-allocation-site-pretenuring', 'server/dist/cli/main.js', 'serve'],
    ]);
    expect(of('COPY').map((i) => i.args)).toContain('--from=build /src/server/dist server/dist');
  });

  it('gives node the same flags as `npm start`, and this node accepts them', () => {
    const [entrypoint] = of('ENTRYPOINT').map((i) => JSON.parse(i.args) as string[]);
    const flags = entrypoint!.slice(1, entrypoint!.indexOf('server/dist/cli/main.js'));
    expect(flags.length).toBeGreaterThan(0);
    const rootPackage = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(rootPackage.scripts.start).toContain(`node ${flags.join(' ')} server/dist/cli/main.js serve`);
    const run = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('runs as a numeric non-root user', () => {
    const users = of('USER').map((i) => i.args);
    expect(users).toHaveLength(1);
    expect(users[0]).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  });

  it('sets only serve settings that exist, with policies at /policies and the default ports exposed', () => {
    const env = new Map(of('ENV').flatMap((i) => envPairs(i.args)));
    for (const name of env.keys()) if (name.startsWith('GATEHOUSE_')) expect(KNOWN_ENV).toContain(name);
    expect(env.get('GATEHOUSE_POLICIES')).toBe('/policies');
    expect(env.get('GATEHOUSE_HTTP')).toBe('0.0.0.0:8080');
    expect(env.get('GATEHOUSE_GRPC')).toBe('0.0.0.0:50051');
    expect(env.get('GATEHOUSE_HEALTH')).toBe('0.0.0.0:9090');
    expect(of('EXPOSE').map((i) => i.args)).toEqual(['8080 50051 9090']);
    expect(of('HEALTHCHECK')[0]?.args).toContain('http://127.0.0.1:9090/healthz');
  });
});

/** Every non-test TypeScript file under `dir`, as repository-relative paths. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(dir, f));
}

describe('the runtime image dependencies', () => {
  it('include every package the server imports at run time (the image installs with --omit=dev)', () => {
    const declared = Object.keys(
      (JSON.parse(read('server/package.json')) as { dependencies: Record<string, string> }).dependencies,
    );
    const imported = new Set<string>();
    for (const file of sourceFiles('server/src')) {
      // Type-only imports are erased by tsc and need nothing at run time.
      for (const m of read(file).matchAll(
        /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^'.][^']*)'/gm,
      )) {
        const specifier = m[1] as string;
        if (specifier.startsWith('node:')) continue;
        const parts = specifier.split('/');
        imported.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string));
      }
    }
    expect(imported.size).toBeGreaterThan(0);
    for (const name of imported) expect(declared, `${name} is a server dependency`).toContain(name);
  });
});

describe('.dockerignore', () => {
  it('keeps local installs, build output and history out of the context', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map(ignorePattern);
    for (const path of [
      'node_modules/yaml',
      'server/node_modules/x',
      'server/dist/cli/main.js',
      '.git/HEAD',
      'bench/.data/x',
    ]) {
      expect(isIgnored(path, patterns), path).toBe(true);
    }
    for (const path of [
      'server/src/cli/main.ts',
      'package-lock.json',
      'proto/gatehouse/v1/gatehouse.proto',
    ]) {
      expect(isIgnored(path, patterns), path).toBe(false);
    }
  });
});

describe('deploy/kubernetes/sidecar.yaml', () => {
  const docs = yamlDocuments('deploy/kubernetes/sidecar.yaml');
  const deployment = docs.find((d) => d.kind === 'Deployment') as Yaml;
  const pod = asRecord(asRecord(asRecord(deployment.spec).template).spec);
  const gatehouse = [...asList(pod.initContainers), ...asList(pod.containers)].find(
    (c) => c.name === 'gatehouse',
  ) as Yaml;
  const env = new Map(asList(gatehouse.env).map((e) => [e.name as string, e]));
  const envValue = (name: string): string => env.get(name)?.value as string;
  const ports = new Map(asList(gatehouse.ports).map((p) => [p.name as string, p.containerPort as number]));

  it('holds one Deployment whose selector matches its pod labels', () => {
    expect(docs.map((d) => d.kind)).toEqual(['Deployment']);
    const selector = asRecord(asRecord(deployment.spec).selector).matchLabels;
    expect(asRecord(asRecord(asRecord(deployment.spec).template).metadata).labels).toMatchObject(
      selector as Yaml,
    );
  });

  it('runs gatehouse as a native sidecar started before the app', () => {
    expect(asList(pod.initContainers).map((c) => c.name)).toContain('gatehouse');
    expect(gatehouse.restartPolicy).toBe('Always');
    expect(asList(pod.containers).map((c) => c.name)).toContain('app');
  });

  it('configures it only through serve settings that exist, with tokens from a Secret mounted as a file', () => {
    for (const name of env.keys()) expect(KNOWN_ENV).toContain(name);
    expect(env.has('GATEHOUSE_TOKEN')).toBe(false);
    const tokenFile = envValue('GATEHOUSE_TOKEN_FILE');
    const mount = asList(gatehouse.volumeMounts).find((m) => tokenFile.startsWith(`${m.mountPath}/`)) as Yaml;
    expect(mount.readOnly).toBe(true);
    const volume = asList(pod.volumes).find((v) => v.name === mount.name) as Yaml;
    const secret = asRecord(volume.secret);
    expect(secret.secretName).toBe('gatehouse-tokens');
    expect(asList(secret.items).map((i) => `${mount.mountPath}/${i.path}`)).toEqual([tokenFile]);
  });

  it('keeps the API on loopback; probes and metrics go to the health listener', () => {
    expect(envValue('GATEHOUSE_HTTP')).toMatch(/^127\.0\.0\.1:/);
    expect(envValue('GATEHOUSE_GRPC')).toMatch(/^127\.0\.0\.1:/);
    // The kubelet probes the pod IP: the health listener must not be loopback-only.
    expect(envValue('GATEHOUSE_HEALTH')).toMatch(/^0\.0\.0\.0:/);
    expect([...ports.keys()]).toEqual(['gatehouse-health']);
    expect(ports.get('gatehouse-health')).toBe(Number(envValue('GATEHOUSE_HEALTH').split(':').at(-1)));
    const probe = (name: string): Yaml => asRecord(asRecord(gatehouse[name]).httpGet);
    expect(probe('readinessProbe')).toEqual({ path: '/readyz', port: 'gatehouse-health' });
    expect(probe('livenessProbe')).toEqual({ path: '/healthz', port: 'gatehouse-health' });
    expect(probe('startupProbe')).toEqual({ path: '/healthz', port: 'gatehouse-health' });
    const annotations = asRecord(asRecord(asRecord(deployment.spec).template).metadata).annotations as Yaml;
    expect(annotations['prometheus.io/port']).toBe(String(ports.get('gatehouse-health')));
  });

  it('mounts the policies ConfigMap read-only where GATEHOUSE_POLICIES points', () => {
    const mount = asList(gatehouse.volumeMounts).find(
      (m) => m.mountPath === envValue('GATEHOUSE_POLICIES'),
    ) as Yaml;
    expect(mount.readOnly).toBe(true);
    const volume = asList(pod.volumes).find((v) => v.name === mount.name) as Yaml;
    const [configMap] = yamlDocuments('deploy/kubernetes/policies-configmap.yaml');
    expect(asRecord(volume.configMap).name).toBe(asRecord(configMap?.metadata).name);
  });

  it('locks the containers down: non-root, read-only root filesystem, no privilege escalation', () => {
    expect(asRecord(pod.securityContext)).toMatchObject({ runAsNonRoot: true });
    const dockerUser = /^USER (\d+):/m.exec(read('deploy/Dockerfile'))?.[1];
    expect(String(asRecord(pod.securityContext).runAsUser)).toBe(dockerUser);
    for (const c of [...asList(pod.initContainers), ...asList(pod.containers)]) {
      expect(asRecord(c.securityContext), String(c.name)).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
    }
  });

  it('requests resources and gives shutdown more time than the drain grace', () => {
    expect(asRecord(asRecord(gatehouse.resources).requests)).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    const graceMs = Number(envValue('GATEHOUSE_SHUTDOWN_GRACE_MS'));
    expect(graceMs).toBeGreaterThan(0);
    expect((pod.terminationGracePeriodSeconds as number) * 1000).toBeGreaterThan(graceMs);
  });
});

describe('deploy/kubernetes/policies-configmap.yaml', () => {
  it('holds policy files that compile and whose own tests pass', async () => {
    const [configMap, ...rest] = yamlDocuments('deploy/kubernetes/policies-configmap.yaml');
    expect(rest).toEqual([]);
    expect(configMap?.kind).toBe('ConfigMap');
    const files = Object.entries(asRecord(configMap?.data)).map(([path, content]) => ({
      path,
      content: content as string,
    }));
    expect(files.map((f) => f.path).sort()).toEqual(['data.yaml', 'schema.yaml', 'sharing.test.yaml']);
    const policySet = compilePolicySet(files);
    expect(policySet.relationships).toHaveLength(7);
    expect(policySet.tests.map((t) => t.name)).toEqual(['notes sharing']);
    const report = await runPolicyTests(policySet);
    expect(report.files.flatMap((f) => f.failures)).toEqual([]);
    expect(report.passed).toBe(7);
  });
});

describe('deploy/kubernetes/redis-sidecar.yaml', () => {
  const docs = yamlDocuments('deploy/kubernetes/redis-sidecar.yaml');
  const byKind = (kind: string): Yaml => docs.find((d) => d.kind === kind) as Yaml;
  const podOf = (workload: Yaml): Yaml => asRecord(asRecord(asRecord(workload.spec).template).spec);
  const app = podOf(byKind('Deployment'));
  const redisPod = podOf(byKind('StatefulSet'));
  const gatehouse = asList(app.initContainers).find((c) => c.name === 'gatehouse') as Yaml;
  const env = new Map(asList(gatehouse.env).map((e) => [e.name as string, e]));
  const redis = asList(redisPod.containers)[0] as Yaml;
  const redisArgs = (redis.args as string[]).join(' ');

  it('holds Redis (Service, StatefulSet, NetworkPolicy) and the app Deployment with its sidecar', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'NetworkPolicy', 'Service', 'StatefulSet']);
    expect(gatehouse.restartPolicy).toBe('Always');
  });

  it('points every sidecar at the Redis Service through a Secret, with only serve settings that exist', () => {
    for (const name of env.keys()) expect(KNOWN_ENV).toContain(name);
    const url = asRecord(asRecord(env.get('GATEHOUSE_REDIS')?.valueFrom).secretKeyRef);
    expect(url).toMatchObject({ name: 'gatehouse-redis', key: 'url' });
    expect(env.get('GATEHOUSE_REDIS')?.value).toBeUndefined();
    expect(env.get('GATEHOUSE_STORE')?.value).toMatch(/^[A-Za-z0-9_-]+$/);
    const service = byKind('Service');
    expect(asRecord(service.spec).selector).toEqual(
      asRecord(asRecord(asRecord(byKind('StatefulSet').spec).template).metadata).labels,
    );
    // The URL in the header comment names the Service and its port.
    const port = (asList(asRecord(service.spec).ports)[0] as Yaml).port;
    expect(read('deploy/kubernetes/redis-sidecar.yaml')).toContain(
      `@${asRecord(service.metadata).name}:${port}/0`,
    );
  });

  it('runs Redis with AOF appendfsync always on a persistent volume, a password, and locked down', () => {
    expect(redisArgs).toMatch(/--appendonly yes/);
    expect(redisArgs).toMatch(/--appendfsync always/);
    expect(redisArgs).toMatch(/--requirepass \$\(REDIS_PASSWORD\)/);
    const dataMount = asList(redis.volumeMounts).find((m) => m.mountPath === '/data') as Yaml;
    const claims = asList(asRecord(byKind('StatefulSet').spec).volumeClaimTemplates);
    expect(claims.map((c) => asRecord(c.metadata).name)).toContain(dataMount.name);
    expect(asRecord(redis.securityContext)).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(asRecord(redisPod.securityContext)).toMatchObject({ runAsNonRoot: true });
  });

  it('runs several replicas of the app, every sidecar on the same store', () => {
    expect(asRecord(byKind('Deployment').spec).replicas as number).toBeGreaterThan(1);
    expect(env.get('GATEHOUSE_STORE')?.value).toBeDefined();
    expect(env.has('GATEHOUSE_REDIS')).toBe(true);
  });

  it('admits only the app pods to Redis', () => {
    const policy = asRecord(byKind('NetworkPolicy').spec);
    const from = asList(asList(policy.ingress)[0]?.from)[0] as Yaml;
    expect(asRecord(from.podSelector).matchLabels).toEqual(
      asRecord(asRecord(asRecord(byKind('Deployment').spec).selector).matchLabels),
    );
    expect(asRecord(policy.podSelector).matchLabels).toEqual(asRecord(byKind('Service').spec).selector);
  });
});

describe.each(['deploy/kubernetes/sidecar.yaml', 'deploy/kubernetes/redis-sidecar.yaml'])(
  '%s: the sidecar layout',
  (path) => {
    const deployment = yamlDocuments(path).find((d) => d.kind === 'Deployment') as Yaml;
    const template = asRecord(asRecord(deployment.spec).template);
    const pod = asRecord(template.spec);
    const gatehouse = asList(pod.initContainers).find((c) => c.name === 'gatehouse') as Yaml;
    const env = new Map(asList(gatehouse.env).map((e) => [e.name as string, e.value as string | undefined]));
    const ports = new Map(asList(gatehouse.ports).map((p) => [p.name as string, p.containerPort as number]));

    it('keeps the API on loopback and probes and metrics on the health listener, the only declared port', () => {
      expect(env.get('GATEHOUSE_HTTP')).toMatch(/^127\.0\.0\.1:/);
      expect(env.get('GATEHOUSE_GRPC')).toMatch(/^127\.0\.0\.1:/);
      const health = Number(env.get('GATEHOUSE_HEALTH')?.split(':').at(-1));
      expect([...ports.values()]).toEqual([health]);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(ports.get(asRecord(asRecord(gatehouse[probe]).httpGet).port as string), probe).toBe(health);
      }
      const annotations = asRecord(asRecord(template.metadata).annotations);
      expect(annotations['prometheus.io/port']).toBe(String(health));
    });

    it('mounts the whole policies volume (a subPath mount never sees a ConfigMap update)', () => {
      const mount = asList(gatehouse.volumeMounts).find((m) => m.mountPath === env.get('GATEHOUSE_POLICIES'));
      expect(mount).toBeDefined();
      expect(mount?.subPath).toBeUndefined();
      expect(mount?.subPathExpr).toBeUndefined();
      const volume = asList(pod.volumes).find((v) => v.name === mount?.name) as Yaml;
      expect(asRecord(volume.configMap).name).toBe('gatehouse-policies');
    });
  },
);
