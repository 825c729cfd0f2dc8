// The SDK README's examples are tests: each ```ts snippet type-checks (as a user's strict project
// would compile it) and runs, in README order, against `gatehouse serve --policies policies/`.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatehouseProcess, startGatehouse, TOKEN } from './support/gatehouse-process.js';
import { extractSnippets, type ReadmePrelude, snippetModule } from './support/readme-snippets.js';
import { createGrpcTransport, createHttpTransport, GatehouseClient } from './support/sdk.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = `${ROOT}sdk/README.md`;
const POLICIES = `${ROOT}policies`;
// Inside the repository, so that the snippets resolve '@gatehouse/sdk' as an installed package.
const DIR = fileURLToPath(new URL(`./.readme-snippets-${process.pid}/`, import.meta.url));
const TSC = `${ROOT}node_modules/typescript/bin/tsc`;

const snippets = extractSnippets(readFileSync(README, 'utf8'));
const files = snippets.map((_, i) => `${DIR}snippet-${String(i + 1).padStart(2, '0')}.ts`);
let typeErrors = '';
let server: GatehouseProcess;
const opened: Array<{ close(): Promise<void> }> = [];
const logged: unknown[][] = [];
const saved: string[] = [];
const rendered: string[][] = [];
let prelude: ReadmePrelude;

/** Run tsc over the snippets with the settings of a strict Node project without DOM types. */
function typeCheck(): Promise<string> {
  writeFileSync(
    `${DIR}tsconfig.json`,
    JSON.stringify({
      extends: '../../../tsconfig.base.json',
      compilerOptions: { noEmit: true, lib: ['ES2023'], types: ['node'] },
      include: ['snippet-*.ts'],
    }),
  );
  return new Promise((resolve) => {
    execFile(process.execPath, [TSC, '-p', DIR], { cwd: ROOT }, (_err, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
  });
}

beforeAll(async () => {
  mkdirSync(DIR, { recursive: true });
  snippets.forEach((snippet, i) => {
    writeFileSync(files[i] as string, snippetModule(snippet, '../support/readme-snippets.js'));
  });
  const [errors, started] = await Promise.all([typeCheck(), startGatehouse({ policies: POLICIES })]);
  typeErrors = errors;
  server = started;
  // The snippets connect where `npm start` listens; here, where this server does.
  process.env.GATEHOUSE_TOKEN = TOKEN;
  const client = new GatehouseClient(createGrpcTransport({ address: server.grpc, token: TOKEN }));
  const transport = createHttpTransport({ baseUrl: `http://${server.http}`, token: TOKEN });
  opened.push(client, transport);
  const { writtenAt } = await client.write({ touch: ['team_crm/account:acme#member@team_crm/user:rita'] });
  const shutdown = new AbortController();
  prelude = {
    client,
    transport,
    req: { resource: 'team_crm/contact:prospect1', permission: 'view', subject: 'team_crm/user:mike' },
    writtenAt,
    contacts: [{ id: 'prospect1' }, { id: 'prospect2' }],
    shutdown: shutdown.signal,
    render: (ids) => void rendered.push([...ids]),
    // The watch snippet saves its cursor after each event; the first one ends the watch.
    save: async (token) => {
      saved.push(token);
      shutdown.abort();
    },
    loadContact: (id) => ({ id }),
    deleteContact: (_req, res) => void res.sendStatus(204),
    conflict: () => undefined,
    badRequest: () => undefined,
    console: { log: (...values: unknown[]) => void logged.push(values) },
  };
}, 120_000);

afterAll(async () => {
  for (const o of opened) await o.close();
  rmSync(DIR, { recursive: true, force: true });
  if (server !== undefined) expect(await server.stop()).toBe(0);
});

describe('sdk/README.md', () => {
  it('has snippets to test', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(10);
  });

  describe.each(snippets.map((snippet, i) => [snippet.line, i] as const))(
    'the snippet at line %i',
    (line, i) => {
      const file = files[i] as string;
      it('type-checks', () => {
        const mine = typeErrors
          .split('\n')
          .filter((l) => l.includes(file.slice(ROOT.length)) || l.includes(file.split('/').pop() as string));
        expect(mine, `README line ${line}, generated ${file}:\n${typeErrors}`).toEqual([]);
      });

      it('runs against gatehouse serve', async () => {
        const source = readFileSync(file, 'utf8')
          .replaceAll("'127.0.0.1:50051'", `'${server.grpc}'`)
          .replaceAll("'http://127.0.0.1:8080'", `'http://${server.http}'`);
        writeFileSync(file, source);
        const module = (await import(pathToFileURL(file).href)) as {
          default: (p: ReadmePrelude) => Promise<void>;
        };
        await module.default(prelude);
      }, 30_000);
    },
  );

  it('showed what the snippets promise: answers, pages, a watch event', () => {
    expect(logged).toContainEqual([true, true]); // the Connect snippet's checks, over gRPC and HTTP
    expect(rendered.flat()).toContain('prospect1');
    expect(saved).toHaveLength(1);
  });
});
