// Test support: a real `redis-server` on a free loopback port in a temp dir, with the controls the
// fault tests need (kill -9, SIGSTOP/SIGCONT, restart with or without its data) and a clean stop.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeClusterPort, freePort, waitUntil } from './free-port.js';
import { track, trackDir, untrackDir } from './process-registry.js';

export interface RedisServerOptions {
  /** Append-only file with this fsync policy; omitted = no persistence at all. */
  readonly appendfsync?: 'always' | 'everysec' | 'no' | undefined;
  /** Start as a replica of this master. */
  readonly replicaOf?: { readonly host: string; readonly port: number } | undefined;
  /** Start as a Cluster node (port chosen so the bus port P+10000 is free too). */
  readonly cluster?: boolean | undefined;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '100mb']`. */
  readonly args?: readonly string[] | undefined;
  readonly readyTimeoutMs?: number | undefined;
}

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  /** The data directory (AOF, RDB, nodes.conf); removed by stop(). */
  readonly dir: string;
  readonly pid: number | undefined;
  /** Every line the server logged so far. */
  readonly output: readonly string[];
  /** Run one command through `redis-cli` and return its raw output, trimmed. */
  cli(...args: string[]): Promise<string>;
  /** SIGKILL the server and wait for it to be gone (its files stay, as after a crash). */
  kill(): Promise<void>;
  /** SIGSTOP: the process freezes with its sockets open. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Start again on the same port; `empty` deletes the data directory's files first. */
  restart(options?: { readonly empty?: boolean | undefined }): Promise<void>;
  /** Stop the server (SIGTERM, then SIGKILL after a bound) and delete its directory. */
  stop(): Promise<void>;
}

const REDIS_SERVER = 'redis-server';

/** Start a redis-server on a free loopback port; resolves once it answers PING. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.cluster ? await freeClusterPort() : await freePort();
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-redis-${port}-`));
  trackDir(dir);
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    '',
    ...(options.appendfsync
      ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync]
      : ['--appendonly', 'no']),
    ...(options.replicaOf ? ['--replicaof', options.replicaOf.host, String(options.replicaOf.port)] : []),
    ...(options.cluster
      ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']
      : []),
    ...(options.args ?? []),
  ];
  const output: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(proc);
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') output.push(line);
      if (output.length > 2000) output.splice(0, output.length - 2000);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    proc.once('error', (err) => output.push(`spawn error: ${err.message}`));
    await waitUntil(
      `redis-server on port ${port} to answer PING`,
      async () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited: ${output.slice(-5).join(' | ')}`);
        return (await redisCli(port, ['PING']).catch(() => '')) === 'PONG';
      },
      options.readyTimeoutMs ?? 20_000,
    );
  };

  const alive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  const killNow = async (): Promise<void> => {
    if (!alive()) return;
    child?.kill('SIGCONT');
    child?.kill('SIGKILL');
    await exited;
  };

  try {
    await launch();
  } catch (err) {
    await killNow();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child?.pid;
    },
    output,
    cli: (...cmd) => redisCli(port, cmd),
    kill: killNow,
    pause: () => {
      if (alive()) child?.kill('SIGSTOP');
    },
    resume: () => {
      if (alive()) child?.kill('SIGCONT');
    },
    restart: async (restartOptions = {}) => {
      await killNow();
      if (restartOptions.empty) {
        // redis-server refuses a missing --dir, so empty it rather than leave it gone.
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
      }
      await launch();
    },
    stop: async () => {
      if (alive()) {
        child?.kill('SIGCONT');
        child?.kill('SIGTERM');
        const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
      untrackDir(dir);
    },
  };
}

/** `redis-cli -h 127.0.0.1 -p PORT ...` with a bounded run time; resolves with trimmed stdout. */
export function redisCli(port: number, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(port), ...args],
      { timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${err.message} ${stderr}`));
        else resolve(stdout.trim());
      },
    );
  });
}
