// Runs the Cerbos PDP binary from bench/.peers as `cerbos server` on loopback ports with the
// group-visibility policy on disk, and waits until its health endpoint answers.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../harness/free-port.js';
import { type RunningTarget, stopChild } from '../../harness/targets/process-target.js';
import { writeCerbosFiles } from './policy.js';

const BINARY = 'cerbos-linux-x64';

export async function startCerbos(packageDir: string, readyTimeoutMs = 30_000): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-cerbos-'));
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const config = writeCerbosFiles(dir, `127.0.0.1:${httpPort}`, `127.0.0.1:${grpcPort}`);
  const child = spawn(join(packageDir, BINARY), ['server', `--config=${config}`, '--log-level=error'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/_cerbos/health`);
      if (res.ok) {
        return {
          name: 'cerbos',
          pid: child.pid!,
          http: { kind: 'tcp', host: '127.0.0.1', port: httpPort },
          grpc: { kind: 'tcp', host: '127.0.0.1', port: grpcPort },
          stop,
        };
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(
    `cerbos server did not become healthy within ${readyTimeoutMs} ms: ${stderr.trim() || 'no output'}`,
  );
}
