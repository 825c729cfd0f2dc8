// The Kubernetes manifests run as far as a machine without a cluster or a container engine can
// run them: the built server started as the image starts it (the Dockerfile's ENTRYPOINT and
// ENV), with each manifest's sidecar environment (Secrets filled in, listeners moved to free
// loopback ports), the policies ConfigMap laid out as the kubelet mounts it. Every probe and the
// metrics annotation are requested on the listener their port names; a ConfigMap update, made
// the kubelet's way (a new directory, then the `..data` symlink swapped), is served without a
// restart; the Redis variant runs its replica count on a real redis-server and every replica
// converges on the new policies.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { assertBuilt } from '../e2e/support/gatehouse-process.js';
import { track } from '../support/process-registry.js';
import { RedisServer } from '../support/redis-server.js';
import { PATIENCE } from '../support/wait-until.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TOKEN = 'deploy-test-token-0123456789';
const SLOW = { timeout: 180_000 };

type Yaml = Record<string, unknown>;
const asRecord = (v: unknown): Yaml => (v ?? {}) as Yaml;
const asList = (v: unknown): Yaml[] => (v ?? []) as Yaml[];
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const manifest = (path: string): Yaml[] =>
  parseAllDocuments(read(path))
    .map((d) => d.toJS() as Yaml)
    .filter((d) => d !== null);

/** How the image starts the server: the Dockerfile's ENTRYPOINT (node, its flags, the script) and ENV. */
function imageStart(): { readonly command: string[]; readonly env: Record<string, string> } {
  const text = read('deploy/Dockerfile').replace(/\\\n/g, ' ');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(text)![1]!) as string[];
  const env: Record<string, string> = {};
  for (const line of text.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const pair of line.slice(4).trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  expect(entrypoint[0]).toBe('node');
  return { command: entrypoint.slice(1), env };
}

/** The ConfigMap's files under `dir` as the kubelet mounts them: through `..data` → a timestamped directory. */
class ConfigMapMount {
  #generation = 0;

  constructor(readonly dir: string) {}

  /** Write `files` as a new generation and swap `..data` to it in one rename, as the kubelet does. */
  publish(files: Readonly<Record<string, string>>): void {
    const name = `..2026_12_04_10_00_00.${String(++this.#generation).padStart(9, '0')}`;
    mkdirSync(join(this.dir, name));
    for (const [file, content] of Object.entries(files)) writeFileSync(join(this.dir, name, file), content);
    if (this.#generation === 1) {
      symlinkSync(name, join(this.dir, '..data'));
      for (const file of Object.keys(files)) symlinkSync(`..data/${file}`, join(this.dir, file));
      return;
    }
    symlinkSync(name, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
}

interface Sidecar {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  /** Actual address of each listener, by the port the manifest gives it (8080, 9090, …). */
  readonly byManifestPort: ReadonlyMap<number, string>;
  readonly http: string;
  stop(): Promise<number | null>;
}

const portOf = (address: string): number => Number(address.split(':').at(-1));

/**
 * Start the built server as the image does, with the environment of `container` (a manifest's
 * gatehouse container): Secrets resolved from `secrets`, the token file written, the policies
 * at `policies`, and every listener moved to a free loopback port (flags beat the environment).
 */
async function startSidecar(
  container: Yaml,
  policies: string,
  secrets: Readonly<Record<string, string>>,
  scratch: string,
): Promise<Sidecar> {
  assertBuilt();
  const image = imageStart();
  const manifestEnv: Record<string, string> = {};
  for (const e of asList(container.env)) {
    const ref = asRecord(asRecord(e.valueFrom).secretKeyRef);
    const value = e.value ?? secrets[`${ref.name}/${ref.key}`];
    expect(value, `a value for ${e.name}`).toBeDefined();
    manifestEnv[e.name as string] = value as string;
  }
  if (manifestEnv.GATEHOUSE_TOKEN_FILE !== undefined) {
    const file = join(scratch, `tokens-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, `${TOKEN} check read write admin\n`);
    manifestEnv.GATEHOUSE_TOKEN_FILE = file;
  }
  expect(manifestEnv.GATEHOUSE_POLICIES).toBe(
    asList(container.volumeMounts).find((m) => m.name === 'policies')?.mountPath,
  );
  manifestEnv.GATEHOUSE_POLICIES = policies;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_')),
  );
  const child = spawn(
    process.execPath,
    [...image.command, '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0', '--health', '127.0.0.1:0'],
    { cwd: ROOT, env: { ...inherited, ...image.env, ...manifestEnv } },
  );
  track(child);
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === 'ready') resolve(entry as Record<string, string>);
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code} before ready: ${stderr}`)));
  });
  const byManifestPort = new Map<number, string>();
  for (const [variable, listener] of [
    ['GATEHOUSE_HTTP', 'http'],
    ['GATEHOUSE_GRPC', 'grpc'],
    ['GATEHOUSE_HEALTH', 'health'],
  ] as const) {
    const declared = manifestEnv[variable];
    if (declared !== undefined && ready[listener] !== undefined)
      byManifestPort.set(portOf(declared), ready[listener]);
  }
  return {
    child,
    lines,
    byManifestPort,
    http: ready.http!,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The gatehouse container and pod template of a manifest's Deployment. */
function sidecarOf(path: string): { container: Yaml; template: Yaml; replicas: number } {
  const deployment = manifest(path).find((d) => d.kind === 'Deployment') as Yaml;
  const template = asRecord(asRecord(deployment.spec).template);
  const pod = asRecord(template.spec);
  const container = [...asList(pod.initContainers), ...asList(pod.containers)].find(
    (c) => c.name === 'gatehouse',
  ) as Yaml;
  return { container, template, replicas: asRecord(deployment.spec).replicas as number };
}

/** Every probe of `container` and the Prometheus annotation answer on the listener their port names. */
async function expectProbesServed(container: Yaml, template: Yaml, sidecar: Sidecar): Promise<void> {
  const ports = new Map(asList(container.ports).map((p) => [p.name as string, p.containerPort as number]));
  const listenerFor = (port: unknown): string => {
    const number = typeof port === 'number' ? port : ports.get(port as string);
    const address = sidecar.byManifestPort.get(number as number);
    expect(address, `a listener on the probes' port ${String(port)}`).toBeDefined();
    return address as string;
  };
  for (const name of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    const probe = asRecord(asRecord(container[name]).httpGet);
    const res = await fetch(`http://${listenerFor(probe.port)}${probe.path as string}`);
    expect(res.status, `${name} ${probe.path as string}`).toBe(200);
    await res.body?.cancel();
  }
  const annotations = asRecord(asRecord(template.metadata).annotations);
  const metrics = await fetch(
    `http://${listenerFor(Number(annotations['prometheus.io/port']))}${annotations['prometheus.io/path'] as string}`,
  );
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(/^gatehouse_ready 1$/m);
}

async function readyz(sidecar: Sidecar): Promise<{ ready: boolean; policyHash: string }> {
  const health = sidecar.byManifestPort.get(9090) ?? sidecar.http;
  return (await (await fetch(`http://${health}/readyz`)).json()) as { ready: boolean; policyHash: string };
}

async function post(sidecar: Sidecar, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://${sidecar.http}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

const ref = (type: string, id: string) => ({ objectType: `notes/${type}`, objectId: id });
async function allowed(
  sidecar: Sidecar,
  permission: string,
  user: string,
  consistency?: unknown,
): Promise<boolean> {
  const answer = await post(sidecar, '/v1/check', {
    resource: ref('note', 'roadmap'),
    permission,
    subject: { object: ref('user', user) },
    ...(consistency === undefined ? {} : { consistency }),
  });
  return answer.permissionship === 'PERMISSIONSHIP_HAS_PERMISSION';
}

/** The example ConfigMap's files, and the same with one more permission on notes. */
const CONFIGMAP = manifest('deploy/kubernetes/policies-configmap.yaml')[0]!;
const FILES = asRecord(CONFIGMAP.data) as Record<string, string>;
const WITH_COMMENT: Record<string, string> = {
  ...FILES,
  'schema.yaml': FILES['schema.yaml']!.replace(/^(\s*)edit: owner$/m, '$1edit: owner\n$1comment: view'),
};

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-k8s-'));
  expect(WITH_COMMENT['schema.yaml']).not.toBe(FILES['schema.yaml']);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('deploy/kubernetes/sidecar.yaml, run', () => {
  it('answers every probe on its port and reloads an updated ConfigMap without a restart', SLOW, async () => {
    const { container, template } = sidecarOf('deploy/kubernetes/sidecar.yaml');
    const mount = new ConfigMapMount(mkdtempSync(join(scratch, 'policies-')));
    mount.publish(FILES);
    const sidecar = await startSidecar(container, mount.dir, {}, scratch);
    try {
      await expectProbesServed(container, template, sidecar);
      const before = (await readyz(sidecar)).policyHash;
      expect(await allowed(sidecar, 'view', 'bob')).toBe(true);

      mount.publish(WITH_COMMENT);
      await vi.waitFor(async () => expect((await readyz(sidecar)).policyHash).not.toBe(before), PATIENCE);
      expect(await allowed(sidecar, 'comment', 'bob')).toBe(true);
      expect(await allowed(sidecar, 'comment', 'carol')).toBe(false);
      // The same process served both: one ready line, still running.
      expect(sidecar.lines.filter((l) => l.msg === 'ready')).toHaveLength(1);
      expect(sidecar.child.exitCode).toBeNull();
      await expectProbesServed(container, template, sidecar);
    } finally {
      expect(await sidecar.stop()).toBe(0);
    }
  });
});

describe('deploy/kubernetes/redis-sidecar.yaml, run', () => {
  it(
    'runs its replicas on one Redis: probes, a write seen by every replica, one policy hash after a ConfigMap update',
    SLOW,
    async () => {
      const { container, template, replicas } = sidecarOf('deploy/kubernetes/redis-sidecar.yaml');
      expect(replicas).toBeGreaterThan(1);
      const redis = await RedisServer.start({ config: { appendonly: 'yes', appendfsync: 'always' } });
      const mount = new ConfigMapMount(mkdtempSync(join(scratch, 'policies-')));
      mount.publish(FILES);
      const secrets = { 'gatehouse-redis/url': redis.url, 'gatehouse-token/token': TOKEN };
      const fleet: Sidecar[] = [];
      try {
        // One after another, as a rollout does: the first seeds the store from the ConfigMap's data.
        for (let i = 0; i < replicas; i++)
          fleet.push(await startSidecar(container, mount.dir, secrets, scratch));
        for (const sidecar of fleet) await expectProbesServed(container, template, sidecar);

        const written = await post(fleet[0]!, '/v1/relationships/write', {
          updates: [
            {
              operation: 'OPERATION_TOUCH',
              relationship: {
                resource: ref('note', 'roadmap'),
                relation: 'viewer',
                subject: { object: ref('user', '*') },
              },
            },
          ],
        });
        const fresh = { atLeastAsFresh: written.writtenAt };
        for (const sidecar of fleet) expect(await allowed(sidecar, 'view', 'carol', fresh)).toBe(true);

        const before = (await readyz(fleet[0]!)).policyHash;
        mount.publish(WITH_COMMENT);
        await vi.waitFor(async () => {
          const hashes = await Promise.all(fleet.map(async (s) => (await readyz(s)).policyHash));
          expect(new Set(hashes).size).toBe(1);
          expect(hashes[0]).not.toBe(before);
        }, PATIENCE);
        for (const sidecar of fleet) {
          expect(await allowed(sidecar, 'comment', 'ana')).toBe(true);
          expect(sidecar.lines.filter((l) => l.msg === 'ready')).toHaveLength(1);
        }
      } finally {
        const codes = await Promise.all(fleet.map((s) => s.stop()));
        await redis.stop();
        expect(codes.every((c) => c === 0)).toBe(true);
      }
    },
  );
});
