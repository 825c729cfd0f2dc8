// The README's "Try it" block, run as written except for what a shared test machine needs:
// `npm start` becomes the command it runs after its build (delayed, as the build delays it) and
// port 8080 a free port. The readiness loop must hold the first call until the server answers.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The first ```sh block after the "## Try it" heading. */
function tryItBlock(): string {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## Try it'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('README.md has no sh block under "## Try it"');
  return block;
}

describe("README's Try it", () => {
  it('waits for readiness, then answers the check (allowed)', async () => {
    const block = tryItBlock();
    expect(block).toMatch(/^npm start &/m);
    expect(block).toMatch(/readyz/);
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { scripts: { start: string } };
    // What `npm start` runs once its build is done, listening where this test can (through
    // `env`, as the script may set variables before the command).
    const serve = pkg.scripts.start.replace(/^npm run build && /, '');
    expect(serve).not.toBe(pkg.scripts.start);
    const port = await freePort();
    const script = block
      .replace(
        /^npm start &/m,
        `(sleep 2; exec env ${serve} --http 127.0.0.1:${port} --grpc 127.0.0.1:0 --log-level silent) &`,
      )
      .replaceAll('localhost:8080', `127.0.0.1:${port}`);
    const run = spawnSync('sh', ['-c', `${script}\nstatus=$?\nkill $! 2>/dev/null\nwait\nexit $status`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ permissionship: 'PERMISSIONSHIP_HAS_PERMISSION' });
  });
});
