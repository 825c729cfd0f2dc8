// Installs a peer into bench/.peers with `npm install --prefix` the first time it is needed, and
// imports it from there. A peer that cannot be installed is reported with the reason, not faked.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  PEER_PACKAGES,
  PEERS_DIR,
  type PeerName,
  PLATFORM_PEERS,
  packageName,
  packageVersion,
} from './versions.js';

const run = promisify(execFile);

export type PeerAvailability =
  | { readonly ok: true; readonly dir: string }
  | { readonly ok: false; readonly reason: string };

function installedVersion(name: string): string | undefined {
  const manifest = join(PEERS_DIR, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
}

/**
 * Make sure the pinned versions of `peers` are in bench/.peers; never throws. Every peer wanted
 * now or installed before is in bench/.peers/package.json, so installing one never prunes
 * another; platform-specific ones are optional dependencies (PLATFORM_PEERS), so a platform that
 * has no build of them skips them instead of failing the others.
 */
export async function ensurePeers(peers: readonly PeerName[]): Promise<Map<PeerName, PeerAvailability>> {
  const result = new Map<PeerName, PeerAvailability>();
  const installed = (peer: PeerName): boolean =>
    installedVersion(packageName(PEER_PACKAGES[peer])) === packageVersion(PEER_PACKAGES[peer]);
  const missing = peers.filter((p) => !installed(p));
  let failure = '';
  if (missing.length > 0) {
    mkdirSync(PEERS_DIR, { recursive: true });
    const manifest = join(PEERS_DIR, 'package.json');
    const wanted = (Object.keys(PEER_PACKAGES) as PeerName[]).filter(
      (p) => peers.includes(p) || installed(p),
    );
    const entries = (platform: boolean): Record<string, string> =>
      Object.fromEntries(
        wanted
          .filter((p) => PLATFORM_PEERS.has(p) === platform)
          .map((p) => [packageName(PEER_PACKAGES[p]), packageVersion(PEER_PACKAGES[p])]),
      );
    writeFileSync(
      manifest,
      `${JSON.stringify(
        {
          name: 'gatehouse-bench-peers',
          private: true,
          dependencies: entries(false),
          optionalDependencies: entries(true),
        },
        null,
        2,
      )}\n`,
    );
    try {
      await run('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund'], {
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (err) {
      failure = err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ') : String(err);
    }
  }
  for (const peer of peers) {
    const spec = PEER_PACKAGES[peer];
    result.set(
      peer,
      installed(peer)
        ? { ok: true, dir: join(PEERS_DIR, 'node_modules', packageName(spec)) }
        : {
            ok: false,
            reason: `npm install ${spec} into bench/.peers failed${failure === '' ? '' : `: ${failure}`}`,
          },
    );
  }
  return result;
}

/** Import an installed peer's ESM/CJS entry by its package directory and entry file. */
export async function importPeer<T>(dir: string, entry: string): Promise<T> {
  return (await import(pathToFileURL(join(dir, entry)).href)) as T;
}
