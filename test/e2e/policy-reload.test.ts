// Hot policy reload against a running `gatehouse serve`: while a bounded load of checks runs, a
// valid change to the policy files is served (polled, bounded) with zero failed checks; an
// invalid change is refused with file:line:column errors and the old policies keep answering;
// a change that would orphan stored relationships is refused with the list; SIGHUP and
// POST /v1/admin/reload reload too; the Kubernetes ConfigMap `..data` symlink swap is detected.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DATA_YAML, SCHEMA_YAML } from '../service/fixture.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TOKEN = 'reload-test-token-0123456789';
// Generous bounds: a loaded CI machine must never fail these (nothing here asserts speed).
const WAIT = { timeout: 60_000, interval: 50 };
const SLOW = { timeout: 180_000 };
/** The fixture schema with one more permission on documents. */
const WITH_COMMENT = SCHEMA_YAML.replace(
  '      edit: owner\n',
  '      edit: owner\n      comment: viewer or owner\n',
);
/** WITH_COMMENT without the public (user:*) viewer: a stored `viewer@user:*` would be orphaned. */
const NO_PUBLIC = WITH_COMMENT.replace(
  'types: user or user:* or group#member\n        if_emptied_by_delete: user:*\n',
  'types: user or group#member\n',
);

interface Server {
  readonly child: ChildProcessWithoutNullStreams;
  readonly http: string;
  readonly lines: Record<string, unknown>[];
}

function start(dir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'server/src/cli/main.ts',
      'serve',
      '--policies',
      dir,
      '--http',
      '127.0.0.1:0',
      '--grpc',
      '127.0.0.1:0',
    ],
    { cwd: ROOT, env: { ...process.env, GATEHOUSE_TOKEN: TOKEN, GATEHOUSE_OPEN_SCOPES: 'check,read' } },
  );
  const lines: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === 'ready') resolve({ child, http: entry.http as string, lines });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before ready`)));
  });
}

async function stop(server: Server): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  return exited;
}

async function check(
  server: Server,
  permission: string,
  user: string,
): Promise<{ status: number; allowed?: boolean }> {
  const res = await fetch(`http://${server.http}/v1/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resource: { objectType: 'document', objectId: 'plan' },
      permission,
      subject: { object: { objectType: 'user', objectId: user } },
    }),
  });
  const body = (await res.json()) as { permissionship?: string };
  return { status: res.status, allowed: body.permissionship === 'PERMISSIONSHIP_HAS_PERMISSION' };
}

/** A bounded load: `workers` loops of checks that must keep answering, until stopped. */
function load(server: Server, workers = 3): { stop: () => Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const loops = Array.from({ length: workers }, async () => {
    for (let i = 0; running && i < 100_000; i++) {
      try {
        const r = await check(server, 'view', 'alice');
        if (r.status === 200 && r.allowed === true) ok++;
        else failed.push(`status ${r.status} allowed ${r.allowed}`);
      } catch (err) {
        failed.push((err as Error).message);
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { ok, failed };
    },
  };
}

/** Replace a file in one rename, as editors and `kubectl cp` do. */
function replace(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

async function readyz(server: Server): Promise<Record<string, unknown>> {
  return (await (await fetch(`http://${server.http}/readyz`)).json()) as Record<string, unknown>;
}

describe('hot policy reload of a running server', () => {
  let dir: string;
  let server: Server;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-reload-'));
    writeFileSync(join(dir, 'schema.yaml'), SCHEMA_YAML);
    writeFileSync(join(dir, 'data.yaml'), DATA_YAML);
    server = await start(dir);
  });
  afterAll(async () => {
    if (server !== undefined) expect(await stop(server)).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a valid change to the files with zero failed checks under load', SLOW, async () => {
    const before = (await readyz(server)).policyHash;
    expect((await check(server, 'comment', 'bob')).status).toBe(400);
    const running = load(server);
    replace(join(dir, 'schema.yaml'), WITH_COMMENT);
    await vi.waitFor(
      async () => expect(await check(server, 'comment', 'bob')).toEqual({ status: 200, allowed: true }),
      WAIT,
    );
    const { ok, failed } = await running.stop();
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    const after = await readyz(server);
    expect(after.policyHash).not.toBe(before);
    expect(after.lastReloadError).toBeUndefined();
    expect(server.lines.some((l) => l.msg === 'policies reloaded')).toBe(true);
    const metrics = await (await fetch(`http://${server.http}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_policy_reload_total\{result="success"\} [1-9]/);
    expect(metrics).toContain(`gatehouse_policy_info{hash="${after.policyHash}"} 1`);
  });

  it(
    'refuses an invalid change with positioned errors and keeps answering from the last good policies',
    SLOW,
    async () => {
      const good = (await readyz(server)).policyHash;
      const running = load(server);
      replace(join(dir, 'schema.yaml'), `${WITH_COMMENT}      broken: owner or nosuchrelation\n`);
      await vi.waitFor(
        () =>
          expect(server.lines.some((l) => l.msg?.toString().includes('the policies are invalid'))).toBe(true),
        WAIT,
      );
      const { failed } = await running.stop();
      expect(failed).toEqual([]);
      const logged = server.lines.find((l) => l.msg?.toString().includes('the policies are invalid'));
      expect(logged?.problems).toEqual([expect.stringMatching(/^schema\.yaml:\d+:\d+: .*nosuchrelation/)]);
      const ready = await readyz(server);
      expect(ready.policyHash).toBe(good);
      expect(ready.lastReloadError).toMatch(/schema\.yaml:\d+:\d+/);
      expect(await check(server, 'comment', 'bob')).toEqual({ status: 200, allowed: true });
      const metrics = await (await fetch(`http://${server.http}/metrics`)).text();
      expect(metrics).toMatch(/gatehouse_policy_reload_total\{result="invalid"\} [1-9]/);
      replace(join(dir, 'schema.yaml'), WITH_COMMENT);
      await vi.waitFor(async () => expect((await readyz(server)).lastReloadError).toBeUndefined(), WAIT);
    },
  );

  it(
    'refuses a change that would orphan stored relationships, listing them, also through the admin API',
    SLOW,
    async () => {
      expect(NO_PUBLIC).not.toBe(WITH_COMMENT);
      const written = await fetch(`http://${server.http}/v1/relationships/write`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          updates: [
            {
              operation: 'OPERATION_TOUCH',
              relationship: {
                resource: { objectType: 'document', objectId: 'readme' },
                relation: 'viewer',
                subject: { object: { objectType: 'user', objectId: '*' } },
              },
            },
          ],
        }),
      });
      expect(written.status).toBe(200);
      const good = (await readyz(server)).policyHash;
      replace(join(dir, 'schema.yaml'), NO_PUBLIC);
      await vi.waitFor(
        async () => expect((await readyz(server)).lastReloadError).toMatch(/would be orphaned/),
        WAIT,
      );
      const unauthenticated = await fetch(`http://${server.http}/v1/admin/reload`, { method: 'POST' });
      expect(unauthenticated.status).toBe(401);
      const res = await fetch(`http://${server.http}/v1/admin/reload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(412);
      const { error } = (await res.json()) as { error: { message: string } };
      expect(error.message).toContain('1 stored relationship(s)');
      expect(error.message).toContain('document:readme#viewer@user:*');
      expect((await readyz(server)).policyHash).toBe(good);
      expect(await check(server, 'view', 'alice')).toEqual({ status: 200, allowed: true });
      replace(join(dir, 'schema.yaml'), WITH_COMMENT);
      await vi.waitFor(async () => expect((await readyz(server)).lastReloadError).toBeUndefined(), WAIT);
    },
  );

  it('reloads on SIGHUP and on POST /v1/admin/reload', SLOW, async () => {
    server.child.kill('SIGHUP');
    await vi.waitFor(() => expect(server.lines.some((l) => l.reason === 'SIGHUP')).toBe(true), WAIT);
    const res = await fetch(`http://${server.http}/v1/admin/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: 'unchanged' });
  });
});

describe('a Kubernetes ConfigMap mount', () => {
  it('detects the ..data symlink swap and serves the new policies', SLOW, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-configmap-'));
    // The kubelet's layout: files are symlinks through ..data, which points at a timestamped dir.
    const first = join(dir, '..2026_12_04_10_00_00.000000001');
    mkdirSync(first);
    writeFileSync(join(first, 'schema.yaml'), SCHEMA_YAML);
    writeFileSync(join(first, 'data.yaml'), DATA_YAML);
    symlinkSync('..2026_12_04_10_00_00.000000001', join(dir, '..data'));
    symlinkSync('..data/schema.yaml', join(dir, 'schema.yaml'));
    symlinkSync('..data/data.yaml', join(dir, 'data.yaml'));
    const server = await start(dir);
    try {
      expect((await check(server, 'comment', 'bob')).status).toBe(400);
      const second = join(dir, '..2026_12_04_10_05_00.000000002');
      mkdirSync(second);
      writeFileSync(join(second, 'schema.yaml'), WITH_COMMENT);
      writeFileSync(join(second, 'data.yaml'), DATA_YAML);
      symlinkSync('..2026_12_04_10_05_00.000000002', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(first, { recursive: true });
      await vi.waitFor(
        async () => expect(await check(server, 'comment', 'bob')).toEqual({ status: 200, allowed: true }),
        WAIT,
      );
    } finally {
      expect(await stop(server)).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
