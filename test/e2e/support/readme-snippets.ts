// E2E support: the ```ts snippets of a README, as modules that type-check and run against a server.

import type { CheckRequest, GatehouseClient, RevisionToken, Transport } from '@gatehouse/sdk';
import type { RequestHandler } from 'express';

/**
 * What a README snippet may use without defining it: the names the README says come from
 * "your application". Each snippet runs with these in scope; a snippet that defines one of
 * them (e.g. its own `client`) shadows it.
 */
export interface ReadmePrelude {
  readonly client: GatehouseClient;
  readonly transport: Transport;
  readonly req: CheckRequest;
  readonly writtenAt: RevisionToken;
  readonly contacts: readonly { readonly id: string }[];
  readonly shutdown: AbortSignal;
  readonly render: (ids: readonly string[], cursor: string) => void;
  readonly save: (token: RevisionToken) => Promise<void>;
  readonly loadContact: (id: string) => { id: string };
  readonly deleteContact: RequestHandler;
  readonly conflict: () => void;
  readonly badRequest: (field: string | undefined, message: string) => void;
  readonly console: { log(...values: unknown[]): void };
}

export const PRELUDE_NAMES = [
  'client',
  'transport',
  'req',
  'writtenAt',
  'contacts',
  'shutdown',
  'render',
  'save',
  'loadContact',
  'deleteContact',
  'conflict',
  'badRequest',
  'console',
] as const satisfies readonly (keyof ReadmePrelude)[];

/** One fenced ```ts block: its first code line in the README (1-based) and its text. */
export interface Snippet {
  readonly line: number;
  readonly code: string;
}

/** Every ```ts block of `markdown`, in order. */
export function extractSnippets(markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]?.trim() !== '```') end++;
    snippets.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return snippets;
}

/**
 * The snippet as a module: its `import` statements and `declare global` blocks at the top
 * (where TypeScript requires them), the rest as the body of `export default async function
 * (prelude)` with the prelude's names in an enclosing scope.
 */
export function snippetModule(snippet: Snippet, preludeImport: string): string {
  const top: string[] = [];
  const body: string[] = [];
  const lines = snippet.code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('import ')) {
      let statement = line;
      while (!statement.trimEnd().endsWith(';') && i + 1 < lines.length) statement += `\n${lines[++i]}`;
      top.push(statement);
    } else if (line.startsWith('declare ')) {
      let block = line;
      while (lines[i] !== '}' && i + 1 < lines.length) block += `\n${lines[++i]}`;
      top.push(block);
    } else {
      body.push(line);
    }
  }
  return [
    `// Generated from README line ${snippet.line}.`,
    ...top,
    `import type { ReadmePrelude } from '${preludeImport}';`,
    '',
    'export default async function snippet(prelude: ReadmePrelude): Promise<void> {',
    `  const { ${PRELUDE_NAMES.join(', ')} } = prelude;`,
    '  {',
    ...body.map((l) => (l === '' ? '' : `    ${l}`)),
    '  }',
    '}',
    '',
  ].join('\n');
}
