// Test harness: real redis-server processes on free loopback ports in temp dirs (never the
// shared 6379) — one standalone server with a given config, or a three-master Cluster — that
// tests can stop, kill, freeze and restart. Every process and directory is also removed when the
// test process exits (process-registry.ts), so an interrupted suite leaves nothing behind.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { track, trackDir, untrackDir } from './process-registry.js';
import { PATIENT_MS } from './wait-until.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

/** A free loopback port (bus ports of Cluster nodes are picked the same way). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends one inline command and resolves with the raw reply, or rejects if nothing answers. */
function ask(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from ${HOST}:${port}`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      if (data.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(data);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs = PATIENT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ok().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RedisServerOptions {
  /** Extra `--name value` settings, e.g. { appendonly: 'yes', appendfsync: 'always' }. */
  readonly config?: Readonly<Record<string, string>>;
  /** Port to listen on; a free one by default. */
  readonly port?: number;
}

/** One standalone redis-server. Its data directory survives restarts until stop(). */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly config: Readonly<Record<string, string>>,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'));
    trackDir(dir);
    const server = new RedisServer(port, dir, options.config ?? {});
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  get host(): string {
    return HOST;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** Runs redis-cli against this server and returns its output (bounded: a frozen server fails it). */
  async cli(...args: string[]): Promise<string> {
    return redisCli(this.port, args);
  }

  /** Sends a signal (SIGKILL by default) and waits for the process to exit; data on disk stays. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.process = undefined;
  }

  /** SIGSTOP / SIGCONT: a server that holds its connections but answers nothing. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  /**
   * Starts the server again on the same port and directory (after kill or stop of the process);
   * `empty` deletes its data first, as a Redis without persistence comes back.
   */
  async restart(options: { readonly empty?: boolean } = {}): Promise<void> {
    this.thaw();
    await this.kill('SIGTERM');
    if (options.empty) {
      // redis-server refuses a missing --dir, so empty it rather than leave it gone.
      rmSync(this.dir, { recursive: true, force: true });
      mkdirSync(this.dir, { recursive: true });
    }
    await this.launch();
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    this.thaw();
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
    untrackDir(this.dir);
  }

  private async launch(): Promise<void> {
    const settings: Record<string, string> = {
      port: String(this.port),
      bind: HOST,
      dir: this.dir,
      save: '',
      appendonly: 'no',
      'protected-mode': 'yes',
      logfile: join(this.dir, 'redis.log'),
      ...this.config,
    };
    const args = Object.entries(settings).flatMap(([k, v]) => [`--${k}`, v]);
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    track(child);
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await waitUntil(`redis-server on port ${this.port}`, async () => {
      if (this.process !== child)
        throw new Error(`redis-server on port ${this.port} exited; see ${settings.logfile}`);
      const reply = await ask(this.port, 'PING');
      // A server with requirepass is up once it refuses an unauthenticated PING.
      return reply.startsWith('+PONG') || reply.startsWith('-NOAUTH');
    });
  }
}

/** A Cluster of three masters (no replicas) on loopback, slots spread by redis-cli. */
export class RedisCluster {
  private constructor(readonly nodes: readonly RedisServer[]) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        nodes.push(
          await RedisServer.start({
            config: {
              'cluster-enabled': 'yes',
              'cluster-config-file': 'nodes.conf',
              'cluster-port': String(await freePort()),
              'cluster-node-timeout': '2000',
            },
          }),
        );
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((n) => `${HOST}:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      for (const node of nodes) {
        await waitUntil('cluster_state:ok', async () =>
          (await node.cli('cluster', 'info')).includes('cluster_state:ok'),
        );
      }
      return new RedisCluster(nodes);
    } catch (err) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw err;
    }
  }

  get url(): string {
    return `redis+cluster://${this.nodes.map((n) => `${HOST}:${n.port}`).join(',')}`;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/** `redis-cli -h 127.0.0.1 -p PORT ...` with a bounded run time; resolves with trimmed stdout. */
export async function redisCli(port: number, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), ...args], {
    timeout: timeoutMs,
  });
  return stdout.trim();
}

/** One redis-sentinel watching `master` under `masterName` (quorum 1), in its own temp dir. */
export class RedisSentinel {
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly process: ChildProcess,
  ) {}

  static async start(master: RedisServer, masterName = 'gatehouse'): Promise<RedisSentinel> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sentinel-'));
    const config = join(dir, 'sentinel.conf');
    // Sentinel rewrites its config file, so it must be a writable file of its own.
    writeFileSync(
      config,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        `logfile ${join(dir, 'sentinel.log')}`,
        `sentinel monitor ${masterName} ${HOST} ${master.port} 1`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 5000`,
        '',
      ].join('\n'),
    );
    // `redis-server --sentinel` is redis-sentinel, without needing that package installed.
    const child = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
    track(child);
    const sentinel = new RedisSentinel(port, dir, child);
    await waitUntil(`redis-sentinel on port ${port}`, async () =>
      (await ask(port, `SENTINEL get-master-addr-by-name ${masterName}`)).includes(String(master.port)),
    );
    return sentinel;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.kill('SIGKILL');
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
