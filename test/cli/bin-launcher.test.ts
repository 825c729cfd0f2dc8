// The `gatehouse` bin: npm can link it in a fresh clone (its target is committed, not built),
// it explains a missing build, and no documented command lets npx reach for the registry.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, 'server');

interface ServerPackage {
  readonly version: string;
  readonly bin: Record<string, string>;
  readonly main?: string;
  readonly types?: string;
  readonly files?: string[];
}

const serverPackage = JSON.parse(readFileSync(join(SERVER, 'package.json'), 'utf8')) as ServerPackage;
const tracked = new Set(
  execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== ''),
);

describe('server/package.json', () => {
  it('points its bin at a committed launcher, so npm ci can link it before anything is built', () => {
    const target = serverPackage.bin.gatehouse;
    expect(target).toBeDefined();
    const path = `server/${target}`;
    expect(tracked.has(path), `${path} is committed`).toBe(true);
    expect(readFileSync(join(ROOT, path), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('names no entry file that does not exist and no files entry outside the package', () => {
    // The server is a program, not a library: no `main`/`types`, unless they name real files.
    for (const entry of [serverPackage.main, serverPackage.types]) {
      if (entry !== undefined) expect(existsSync(join(SERVER, entry)), entry).toBe(true);
    }
    // npm ignores `files` entries that leave the package directory (such as '../proto').
    for (const entry of serverPackage.files ?? []) {
      expect(relative(SERVER, join(SERVER, entry)).startsWith('..'), entry).toBe(false);
    }
  });
});

describe('node_modules/.bin/gatehouse', () => {
  it('is linked by npm to the launcher', () => {
    const bin = join(ROOT, 'node_modules/.bin/gatehouse');
    expect(existsSync(bin), 'npm ci linked node_modules/.bin/gatehouse').toBe(true);
    expect(realpathSync(bin)).toBe(realpathSync(join(SERVER, serverPackage.bin.gatehouse!)));
  });

  it('runs the built CLI', () => {
    const run = spawnSync(join(ROOT, 'node_modules/.bin/gatehouse'), ['--version'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(serverPackage.version);
    expect(run.status).toBe(0);
  });
});

describe('the launcher without a build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with a message that says to run npm run build', () => {
    // The launcher alone, as in a fresh clone: bin/ beside a package with no dist/.
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(SERVER, serverPackage.bin.gatehouse!), join(dir, 'bin/gatehouse.js'));
    const run = spawnSync(process.execPath, [join(dir, 'bin/gatehouse.js'), 'validate', 'policies/'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('is not built yet');
    expect(run.stderr).toContain('npm run build');
  });
});

/** Every Markdown file of the repository that git tracks. */
function markdownFiles(): string[] {
  return [...tracked].filter((f) => f.endsWith('.md'));
}

/** The shell lines of the ```sh blocks of a Markdown text. */
function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const block of markdown.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    lines.push(...block[1]!.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')));
  }
  return lines;
}

/** The code of a Markdown text: its fenced blocks and inline code spans, one per line. */
function codeOf(markdown: string): string {
  const fenced = [...markdown.matchAll(/```[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1]);
  const inline = [...markdown.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
  return [...fenced, ...inline].join('\n');
}

describe('documented commands', () => {
  it('never call `npx gatehouse`, and every npx names a bin npm installed locally', () => {
    const localBins = new Set(readdirSync(join(ROOT, 'node_modules/.bin')));
    const offenders: string[] = [];
    for (const file of markdownFiles()) {
      const text = codeOf(readFileSync(join(ROOT, file), 'utf8'));
      for (const m of text.matchAll(/\bnpx\s+((?:--?[\w-]+(?:=\S+)?\s+)*)([@\w./-]+)/g)) {
        const flags = m[1] ?? '';
        const name = m[2]!;
        if (name === 'gatehouse' || !localBins.has(name)) offenders.push(`${file}: npx ${flags}${name}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("run the README's policy tools as written", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const lines = shellLines(readme).filter((l) => l.startsWith('node_modules/.bin/gatehouse '));
    expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(['validate', 'test', 'check']);
    for (const line of lines) {
      const run = spawnSync('sh', ['-c', line], { cwd: ROOT, encoding: 'utf8' });
      expect(run.status, `${line}\n${run.stderr}`).toBe(0);
    }
  });
});
