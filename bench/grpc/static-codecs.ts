// Generates pbjs static-module codecs for gatehouse.proto into a temporary directory and loads
// them, so the measurements compare static code against the reflection codecs without the bench
// depending on generated files being committed anywhere.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROTO = join(ROOT, 'proto/gatehouse/v1/gatehouse.proto');

/** The smallest static module that still encodes and decodes: no verify/convert/create helpers. */
export const PBJS_ARGS = [
  '-t',
  'static-module',
  '-w',
  'es6',
  '--es6',
  '--no-create',
  '--no-verify',
  '--no-convert',
  '--no-delimited',
  '--no-typeurl',
  '--no-comments',
  '--no-service',
  '--force-number',
];

/** A generated message class: what the benches and the echo server call. */
export interface StaticType {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): Record<string, unknown>;
}

/** Run pbjs, point the generated import at this checkout's protobufjs, and import the module. */
export async function loadStaticCodecs(): Promise<Record<string, StaticType>> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-pbjs-'));
  const out = join(dir, 'gatehouse.js');
  execFileSync(join(ROOT, 'node_modules/.bin/pbjs'), [...PBJS_ARGS, '-o', out, PROTO], { stdio: 'inherit' });
  const minimal = pathToFileURL(join(ROOT, 'node_modules/protobufjs/minimal.js')).href;
  const source = readFileSync(out, 'utf8').replace('"protobufjs/minimal.js"', JSON.stringify(minimal));
  writeFileSync(out, source);
  try {
    const mod = (await import(pathToFileURL(out).href)) as {
      gatehouse: { v1: Record<string, StaticType> };
    };
    return mod.gatehouse.v1;
  } finally {
    // Once imported the module lives in memory; leave no generated file behind.
    rmSync(dir, { recursive: true, force: true });
  }
}
