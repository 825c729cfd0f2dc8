// Starts a target server as a child process and reads its listen addresses from the JSON
// `"msg":"ready"` line every target (Gatehouse and the echo servers) logs on stdout.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseEndpoint } from '../endpoint.js';
import type { Endpoint } from '../types.js';

export interface RunningTarget {
  readonly name: string;
  readonly pid: number;
  readonly http?: Endpoint | undefined;
  readonly grpc?: Endpoint | undefined;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export interface StartTargetOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly cwd?: string | undefined;
  readonly readyTimeoutMs?: number | undefined;
}

/** SIGTERM, then SIGKILL if the child has not exited within 5 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function startTarget(options: StartTargetOptions): Promise<RunningTarget> {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > 50) stderr.shift();
  });
  const timeoutMs = options.readyTimeoutMs ?? 60_000;

  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      void stopChild(child);
      reject(
        new Error(
          `${options.name} did not log "ready" within ${timeoutMs} ms; stderr: ${stderr.join('').slice(-800)}`,
        ),
      );
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${options.name} exited (${signal ?? code}) before it was ready; stderr: ${stderr.join('').slice(-800)}`,
        ),
      );
    });
    lines.on('line', (line) => {
      let entry: { msg?: unknown; http?: unknown; grpc?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return; // not a log line
      }
      if (entry.msg !== 'ready') return;
      clearTimeout(timer);
      // Keep draining stdout so a chatty server never blocks on a full pipe.
      child.stdout!.resume();
      resolve({
        name: options.name,
        pid: child.pid!,
        http: typeof entry.http === 'string' ? parseEndpoint(entry.http) : undefined,
        grpc: typeof entry.grpc === 'string' ? parseEndpoint(entry.grpc) : undefined,
        stop: () => stopChild(child),
      });
    });
  });
}

/** `node --import tsx <script>`: how the bench starts its own TypeScript servers. */
export function tsxCommand(script: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', script, ...args] };
}
