// `gatehouse serve` installs its signal handlers before it prints anything: a SIGTERM sent the
// moment a line appears (`starting`, `ready`) drains and exits 0; a SIGHUP sent the moment `ready`
// appears reloads; one sent during start-up is not lost (nor does it kill the process), it
// reloads once the server is ready; and a policy change made while it starts is served. Signals
// and changes are made on the lines, never after a guessed delay.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DATA_YAML, SCHEMA_YAML } from '../service/fixture.js';
import { PATIENCE } from '../support/wait-until.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SLOW = { timeout: 120_000 };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-signals-'));
  writeFileSync(join(dir, 'schema.yaml'), SCHEMA_YAML);
  writeFileSync(join(dir, 'data.yaml'), DATA_YAML);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Serve {
  readonly child: ChildProcessWithoutNullStreams;
  /** Every log line so far, parsed. */
  readonly lines: Record<string, unknown>[];
  /** The exit code, or the signal that killed the process (the default action of an unhandled one). */
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

/** Start serve; `onLine` runs synchronously on each log line as it is read. */
function serve(
  onLine: (entry: Record<string, unknown>, child: ChildProcessWithoutNullStreams) => void,
  policies = dir,
): Serve {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'server/src/cli/main.ts',
      'serve',
      '--policies',
      policies,
      '--http',
      '127.0.0.1:0',
      '--grpc',
      '127.0.0.1:0',
    ],
    { cwd: ROOT },
  );
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  createInterface({ input: child.stdout }).on('line', (line) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    lines.push(entry);
    onLine(entry, child);
  });
  return { child, lines, exited };
}

const messages = (s: Serve): unknown[] => s.lines.map((l) => l.msg);

describe('serve signal handling', () => {
  it('drains and exits 0 on a SIGTERM sent the moment the ready line appears', SLOW, async () => {
    const s = serve((entry, child) => {
      if (entry.msg === 'ready') child.kill('SIGTERM');
    });
    expect(await s.exited).toBe(0);
    const shown = messages(s);
    expect(shown.slice(shown.indexOf('ready'))).toEqual([
      'ready',
      'signal received',
      'shutting down: draining in-flight calls',
      'stopped',
    ]);
  });

  it(
    'exits 0 on a SIGTERM sent the moment the first line appears, before anything is ready',
    SLOW,
    async () => {
      const s = serve((entry, child) => {
        if (entry.msg === 'starting') child.kill('SIGTERM');
      });
      expect(await s.exited).toBe(0);
      expect(messages(s)).toContain('stopped');
    },
  );

  it('reloads on a SIGHUP sent the moment the ready line appears, and keeps serving', SLOW, async () => {
    const s = serve((entry, child) => {
      if (entry.msg === 'ready') child.kill('SIGHUP');
    });
    try {
      await vi.waitFor(
        () => expect(s.lines.some((l) => l.msg === 'policies unchanged' && l.reason === 'SIGHUP')).toBe(true),
        PATIENCE,
      );
      const ready = s.lines.find((l) => l.msg === 'ready') as { http: string };
      expect((await fetch(`http://${ready.http}/readyz`)).status).toBe(200);
    } finally {
      s.child.kill('SIGTERM');
    }
    expect(await s.exited).toBe(0);
  });

  it('keeps a SIGHUP sent during start-up and reloads once ready, instead of dying of it', SLOW, async () => {
    const s = serve((entry, child) => {
      if (entry.msg === 'starting') child.kill('SIGHUP');
    });
    try {
      await vi.waitFor(
        () => expect(s.lines.some((l) => l.msg === 'policies unchanged' && l.reason === 'SIGHUP')).toBe(true),
        PATIENCE,
      );
      expect(messages(s).indexOf('policies unchanged')).toBeGreaterThan(messages(s).indexOf('ready'));
    } finally {
      s.child.kill('SIGTERM');
    }
    expect(await s.exited).toBe(0);
  });

  it('serves a policy change made while it starts, without another change to trigger it', SLOW, async () => {
    const own = mkdtempSync(join(tmpdir(), 'gatehouse-signals-'));
    writeFileSync(join(own, 'schema.yaml'), SCHEMA_YAML);
    writeFileSync(join(own, 'data.yaml'), DATA_YAML);
    const withComment = SCHEMA_YAML.replace(
      '      edit: owner\n',
      '      edit: owner\n      comment: viewer or owner\n',
    );
    // Replaced (in one rename, as editors and the kubelet do) once the server has read the files
    // and opened its store, before its listeners are up: the new policies must end up serving.
    const s = serve((entry) => {
      if (entry.msg !== 'store open') return;
      writeFileSync(join(own, 'schema.yaml.tmp'), withComment);
      renameSync(join(own, 'schema.yaml.tmp'), join(own, 'schema.yaml'));
    }, own);
    try {
      await vi.waitFor(async () => {
        const ready = s.lines.find((l) => l.msg === 'ready') as { http: string } | undefined;
        expect(ready).toBeDefined();
        const res = await fetch(`http://${ready!.http}/v1/check`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            resource: { objectType: 'document', objectId: 'plan' },
            permission: 'comment',
            subject: { object: { objectType: 'user', objectId: 'bob' } },
          }),
        });
        expect(res.status).toBe(200);
      }, PATIENCE);
    } finally {
      s.child.kill('SIGTERM');
    }
    expect(await s.exited).toBe(0);
    rmSync(own, { recursive: true, force: true });
  });
});
