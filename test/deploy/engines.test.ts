// Every dependency the workspace declares runs on the oldest Node it promises (engines.node of
// the root package.json): a dev dependency that needs a newer Node breaks `npm ci` or the tests
// there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
type Version = readonly [number, number, number];

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, unknown>;
}

function version(text: string): Version {
  const [major = 0, minor = 0, patch = 0] = text.split('.').map((p) => Number.parseInt(p, 10) || 0);
  return [major, minor, patch];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Whether `v` satisfies an engines range made of `||` alternatives of `>=X`, `^X` or `X` forms. */
function satisfies(v: Version, range: string): boolean {
  return range.split('||').some((alternative) => {
    const a = alternative.trim();
    const m = /^(>=|\^)?\s*v?(\d+(?:\.\d+){0,2})(?:\.x)?$/.exec(a);
    if (m === null) throw new Error(`engines range '${range}' has a form this check does not read: '${a}'`);
    const bound = version(m[2]!);
    if (m[1] === '>=') return compare(v, bound) >= 0;
    // `^X.Y.Z` and a bare `X` both mean "same major, at least this".
    return v[0] === bound[0] && compare(v, bound) >= 0;
  });
}

describe('engines', () => {
  const minimum = /^>=\s*(\d+\.\d+(?:\.\d+)?)$/.exec(
    String((readJson('package.json').engines as Record<string, string>).node),
  );

  it('reads the ranges it checks', () => {
    expect(satisfies([20, 19, 0], '>=20')).toBe(true);
    expect(satisfies([20, 19, 0], '>=22')).toBe(false);
    expect(satisfies([20, 19, 0], '^20.0.0 || ^22.0.0 || >=24.0.0')).toBe(true);
    expect(satisfies([20, 19, 0], '^18 || >=22')).toBe(false);
  });

  it('declares a minimum Node, and every direct dependency supports it', () => {
    expect(minimum).not.toBeNull();
    const oldest = version(minimum![1]!);
    const offenders: string[] = [];
    for (const manifest of ['package.json', 'server/package.json', 'sdk/package.json']) {
      const pkg = readJson(manifest);
      for (const field of ['dependencies', 'devDependencies']) {
        for (const name of Object.keys((pkg[field] as Record<string, string> | undefined) ?? {})) {
          const installed = readJson(`node_modules/${name}/package.json`);
          const range = (installed.engines as Record<string, string> | undefined)?.node;
          if (range !== undefined && !satisfies(oldest, range)) {
            offenders.push(`${name}@${String(installed.version)} (${manifest} ${field}) needs Node ${range}`);
          }
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
