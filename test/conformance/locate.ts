// Finds the peers' conformance suites in place: `shared/conformance` beside the repository
// (CI keeps a copy of shared/ next to the clone) or beside one of its parent directories.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `shared/conformance` directory, or an Error saying where it was looked for. */
export function locateConformance(): string {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const tried: string[] = [];
  for (let dir = dirname(repoRoot); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'conformance');
    tried.push(candidate);
    if (existsSync(join(candidate, 'openfga')) && existsSync(join(candidate, 'spicedb'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    `the conformance suites are missing: looked for shared/conformance/{openfga,spicedb} at ${tried.join(', ')}; CI must provide shared/ beside the clone`,
  );
}
