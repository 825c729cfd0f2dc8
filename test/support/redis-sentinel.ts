// Test support: one master, one replica and three Sentinels on free loopback ports, with a helper
// that forces a failover and waits until the Sentinels name the new master.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track, trackDir, untrackDir } from './process-registry.js';
import { freePort, RedisServer, redisCli } from './redis-server.js';
import { waitUntil } from './wait-until.js';

export const MASTER_NAME = 'gatehouse';

export interface SentinelProcess {
  readonly port: number;
  readonly child: ChildProcess;
}

export interface RedisSentinelSetup {
  /** The data nodes: index 0 starts as master, index 1 as its replica. */
  readonly servers: readonly RedisServer[];
  readonly sentinels: readonly SentinelProcess[];
  /** `redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/gatehouse` (the RedisStore URL form). */
  readonly url: string;
  /** The master's port as the Sentinels report it now. */
  masterPort(): Promise<number>;
  /** `SENTINEL FAILOVER` and wait until the Sentinels name a master other than the current one. */
  failover(): Promise<number>;
  stop(): Promise<void>;
}

/** `redis-sentinel` when installed; otherwise `redis-server --sentinel` (the same program). */
function sentinelCommand(config: string): [string, string[]] {
  const probe = spawnSync('redis-sentinel', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0
    ? ['redis-sentinel', [config]]
    : ['redis-server', [config, '--sentinel']];
}

export async function startRedisSentinel(
  options: { readonly appendfsync?: 'always' | 'everysec' | undefined } = {},
): Promise<RedisSentinelSetup> {
  const servers: RedisServer[] = [];
  const sentinels: SentinelProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sentinel-'));
  trackDir(dir);
  const stop = async (): Promise<void> => {
    await Promise.all(
      sentinels.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
            s.child.once('exit', () => resolve());
            s.child.kill('SIGKILL');
          }),
      ),
    );
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
    untrackDir(dir);
  };
  try {
    const config: Record<string, string> = options.appendfsync
      ? { appendonly: 'yes', appendfsync: options.appendfsync }
      : {};
    const master = await RedisServer.start({ config });
    servers.push(master);
    const replica = await RedisServer.start({ config });
    servers.push(replica);
    await replica.cli('REPLICAOF', '127.0.0.1', String(master.port));
    await waitUntil('the replica to finish its first sync', async () =>
      (await replica.cli('INFO', 'replication')).includes('master_link_status:up'),
    );
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const config = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its config file, so each gets its own writable copy.
      writeFileSync(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 10000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const [command, args] = sentinelCommand(config);
      const child = spawn(command, args, { stdio: 'ignore' });
      track(child);
      sentinels.push({ port, child });
    }
    for (const s of sentinels) {
      await waitUntil(
        `sentinel ${s.port} to see the master, the replica and two other sentinels`,
        async () => {
          const info = await redisCli(s.port, ['SENTINEL', 'MASTER', MASTER_NAME]);
          const lines = info.split('\n');
          const field = (name: string): string => lines[lines.indexOf(name) + 1] ?? '';
          return field('num-other-sentinels') === '2' && field('num-slaves') === '1';
        },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const masterPort = async (): Promise<number> => {
    const reply = await redisCli(sentinels[0]!.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME]);
    return Number(reply.split('\n')[1]);
  };
  return {
    servers,
    sentinels,
    url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${MASTER_NAME}`,
    masterPort,
    failover: async () => {
      const before = await masterPort();
      await redisCli(sentinels[0]!.port, ['SENTINEL', 'FAILOVER', MASTER_NAME]);
      let after = before;
      await waitUntil(
        'the sentinels to promote a new master',
        async () => {
          after = await masterPort();
          if (after === before) return false;
          if (!(await redisCli(after, ['ROLE'])).startsWith('master')) return false;
          // Until the old master is demoted it still accepts writes that the failover then drops.
          for (const server of servers) {
            if (server.port === after) continue;
            const role = (await server.cli('ROLE').catch(() => '')).split('\n');
            if (role[0] !== 'slave' || role[2] !== String(after)) return false;
          }
          return true;
        },
        30_000,
        100,
      );
      return after;
    },
    stop,
  };
}
