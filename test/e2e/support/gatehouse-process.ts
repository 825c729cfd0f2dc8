// E2E support: spawns the real `gatehouse serve`, reads its ready line for the chosen ports, stops it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const MAIN_JS = fileURLToPath(new URL('../../../server/dist/cli/main.js', import.meta.url));
const SDK_BUILD = [
  fileURLToPath(new URL('../../../sdk/dist/index.js', import.meta.url)),
  fileURLToPath(new URL('../../../sdk/proto/gatehouse/v1/gatehouse.proto', import.meta.url)),
];
export const FIXTURE_POLICIES = fileURLToPath(new URL('../fixtures/crm', import.meta.url));
export const TOKEN = 'secret';

/** A running server process. */
export interface GatehouseProcess {
  readonly child: ChildProcess;
  /** The HTTP listener as the ready line names it: `127.0.0.1:port` or `unix:/path`. */
  readonly http: string;
  /** The gRPC listener as the ready line names it: `127.0.0.1:port` or `unix:/path`. */
  readonly grpc: string;
  /** Every line the process wrote to stdout and stderr so far. */
  readonly output: string[];
  /** Resolves with the exit code (null when killed by a signal) once the process exits. */
  readonly exited: Promise<number | null>;
  /** Send `signal` (default SIGTERM) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  readonly policies?: string | undefined;
  /** Extra `serve` flags, e.g. `['--max-batch-size', '50']`. */
  readonly args?: readonly string[] | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly readyTimeoutMs?: number | undefined;
  /** Listen addresses instead of free loopback ports, e.g. `unix:/tmp/x/http.sock`. */
  readonly listen?: { readonly http: string; readonly grpc: string } | undefined;
}

/** The server binary and the SDK package must be built; the suite fails loudly rather than skipping. */
export function assertBuilt(): void {
  for (const file of [MAIN_JS, ...SDK_BUILD]) {
    if (!existsSync(file)) {
      throw new Error(
        `${file} is missing: run \`npm run build\` before the end-to-end suite (\`npm test\` does it for you)`,
      );
    }
  }
}

/** Start `gatehouse serve` on free loopback ports and wait for its `ready` log line. */
export async function startGatehouse(options: StartOptions = {}): Promise<GatehouseProcess> {
  assertBuilt();
  const child = spawn(
    process.execPath,
    [
      MAIN_JS,
      'serve',
      '--policies',
      options.policies ?? FIXTURE_POLICIES,
      '--http',
      options.listen?.http ?? '127.0.0.1:0',
      '--grpc',
      options.listen?.grpc ?? '127.0.0.1:0',
      ...(options.args ?? []),
    ],
    {
      // The token travels by env only: the server refuses it as a flag so it never shows in `ps`.
      env: { ...process.env, GATEHOUSE_TOKEN: TOKEN, GATEHOUSE_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const ready = new Promise<{ http: string; grpc: string }>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `gatehouse serve printed no ready line within ${options.readyTimeoutMs ?? 90_000} ms:\n${output.join('\n')}`,
          ),
        ),
      options.readyTimeoutMs ?? 90_000,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const entry = parseJson(line);
      if (entry?.msg === 'ready' && typeof entry.http === 'string' && typeof entry.grpc === 'string') {
        clearTimeout(timer);
        resolve({ http: entry.http, grpc: entry.grpc });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse serve exited with ${code} before it was ready:\n${output.join('\n')}`));
    });
  });
  try {
    const { http, grpc } = await ready;
    return {
      child,
      http,
      grpc,
      output,
      exited,
      stop: (signal = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      },
    };
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The sum of `gatehouse_request_duration_seconds_count` for one transport and method, from /metrics. */
export async function requestCount(
  http: string,
  transport: 'grpc' | 'http',
  method: string,
): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('gatehouse_request_duration_seconds_count{')) continue;
    if (line.includes(`transport="${transport}"`) && line.includes(`method="${method}"`)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}
