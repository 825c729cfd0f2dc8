// docs/authzen.md as written: its `serve` command starts the server, and every curl example,
// run by the shell with $PDP and $TOKEN set, prints the JSON of the block that follows it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type GatehouseProcess, startGatehouse, TOKEN } from '../e2e/support/gatehouse-process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'authzen.md'), 'utf8');
const run = promisify(execFile);

interface Block {
  readonly lang: string;
  readonly line: number;
  readonly text: string;
}

/** Every fenced block of the document, in order. */
function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    let end = i + 1;
    while (end < lines.length && lines[end] !== '```') end++;
    out.push({ lang: open[1]!, line: i + 1, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

const BLOCKS = blocks(DOC);
/** Each curl example and the JSON block after it. */
const EXAMPLES = BLOCKS.flatMap((b, i) => {
  const next = BLOCKS[i + 1];
  return b.lang === 'sh' && b.text.startsWith('curl ') && next?.lang === 'json'
    ? [{ curl: b, expected: next }]
    : [];
});

/** The documented `serve` command's flags, continuation lines joined. */
function serveArgs(): string[] {
  const serve = BLOCKS.find((b) => b.lang === 'sh' && b.text.includes(' serve '));
  if (serve === undefined) throw new Error('docs/authzen.md has no serve command');
  const command = serve.text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .find((l) => l.includes(' serve '))!;
  return command
    .slice(command.indexOf(' serve ') + ' serve '.length)
    .split(/\s+/)
    .filter(Boolean);
}

describe('docs/authzen.md', () => {
  let server: GatehouseProcess;

  beforeAll(async () => {
    const args = serveArgs();
    const at = args.indexOf('--policies');
    expect(at).toBeGreaterThanOrEqual(0);
    const policies = join(ROOT, args[at + 1]!);
    args.splice(at, 2);
    server = await startGatehouse({ policies, args });
  });

  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
  });

  it("quotes the Todo policy's is_owner condition as the policy declares it", () => {
    const quoted = BLOCKS.filter((b) => b.lang === 'yaml' && b.text.includes('is_owner:'));
    expect(quoted).toHaveLength(1);
    const schema = parseYaml(readFileSync(join(ROOT, 'policies', 'authzen_todo', 'schema.yaml'), 'utf8'));
    expect(parseYaml(quoted[0]!.text).conditions.is_owner).toEqual(schema.conditions.is_owner);
  });

  it('has curl examples with their answers', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(7);
    expect(DOC).toContain('export PDP=http://127.0.0.1:8080 TOKEN=');
  });

  for (const { curl, expected } of EXAMPLES) {
    it(`the example at line ${curl.line} prints the JSON at line ${expected.line}`, async () => {
      const { stdout } = await run('bash', ['-c', curl.text], {
        env: { ...process.env, PDP: `http://${server.http}`, TOKEN },
      });
      expect(JSON.parse(stdout)).toEqual(JSON.parse(expected.text));
    });
  }
});
