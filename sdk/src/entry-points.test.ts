// Dependency boundaries of the entry points: the core and HTTP never load grpc-js, protobufjs or undici.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Every module a file loads at import time, followed through relative imports (type-only imports excluded). */
function runtimeImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    // Static `import … from '…'` and `export … from '…'`, minus `import type` / `export type`.
    for (const match of source.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else external.add(specifier);
    }
  };
  visit(join(SRC, entry));
  return external;
}

describe('entry points', () => {
  it('keeps the core free of any transport dependency', () => {
    expect([...runtimeImports('index.ts')]).toEqual([]);
  });

  it('keeps the HTTP entry free of grpc-js, protobufjs and a static undici import', () => {
    expect([...runtimeImports('http/index.ts')]).toEqual([]);
  });

  it('loads grpc-js and protobufjs only from the gRPC entry', () => {
    const grpc = runtimeImports('grpc/index.ts');
    expect(grpc).toContain('@grpc/grpc-js');
    expect(grpc).toContain('protobufjs');
  });

  it('loads no framework at runtime from the middleware entries (types only)', () => {
    expect([...runtimeImports('middleware/hono.ts')]).toEqual([]);
    expect([...runtimeImports('middleware/express.ts')]).toEqual([]);
  });
});
