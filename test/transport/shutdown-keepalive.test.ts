// What HTTP keep-alive clients see through a SIGTERM: many clients send checks back to back on
// kept-alive connections while `gatehouse serve` drains. Every request must be answered, or
// refused before it was sent (connection refused); none may be reset on a connection the server
// closed under it.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DATA_YAML, SCHEMA_YAML } from '../service/fixture.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLIENTS = 24;
const WARM_ANSWERS = 5;
const BODY = JSON.stringify({
  resource: { objectType: 'document', objectId: 'plan' },
  permission: 'view',
  subject: { object: { objectType: 'user', objectId: 'alice' } },
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-keepalive-'));
  writeFileSync(join(dir, 'schema.yaml'), SCHEMA_YAML);
  writeFileSync(join(dir, 'data.yaml'), DATA_YAML);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Outcome =
  | { readonly kind: 'answered'; readonly status: number; readonly close: boolean }
  | { readonly kind: 'refused' }
  | { readonly kind: 'reset'; readonly why: string };

// Set when the server logs that its drain began. With each request's connection (kept alive or
// new) it goes into a reset's description, so a failure says which case it was: a reset on a
// kept-alive connection is the server closing a connection under a request; one on a new
// connection is a handshake the listener completed but never accepted before it closed.
let drainLogged = false;

function check(port: number, agent: Agent): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/check',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            kind: 'answered',
            status: res.statusCode ?? 0,
            close: res.headers.connection === 'close',
          }),
        );
        res.on('error', (err) =>
          resolve({ kind: 'reset', why: `response: ${err.message} (${connectionState(req.reusedSocket)})` }),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve(
        err.code === 'ECONNREFUSED'
          ? { kind: 'refused' }
          : { kind: 'reset', why: `${err.code} ${err.message} (${connectionState(req.reusedSocket)})` },
      ),
    );
    req.end(BODY);
  });
}

function connectionState(reused: boolean): string {
  return `${reused ? 'kept-alive' : 'new'} connection, ${drainLogged ? 'after' : 'before'} the drain was logged`;
}

it(`answers or refuses every request of ${CLIENTS} keep-alive clients sending through SIGTERM; resets none`, async () => {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'server/src/cli/main.ts',
      'serve',
      '--policies',
      dir,
      '--http',
      '127.0.0.1:0',
      '--grpc',
      '127.0.0.1:0',
      '--shutdown-grace-ms',
      '20000',
    ],
    { cwd: ROOT },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const http = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; http?: string };
      if (entry.msg === 'ready') resolve(entry.http!);
      if (entry.msg?.startsWith('shutting down') === true) drainLogged = true;
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before ready`)));
  });
  const port = Number(http.split(':')[1]);

  const outcomes: Outcome[] = [];
  // SIGTERM goes once every client has had WARM_ANSWERS answers, so each sends through the
  // drain on a connection the server accepted. Counting all answers instead (the test's first
  // form) sent it while a loaded machine had not yet accepted some client's first connection
  // (seen: a reset 'new connection, after 0 answers'). The kernel resets a handshake still in
  // the accept queue when the listener closes, unanswered, whatever the server does; TCP
  // promises no more, and that request was never read, so a client may safely retry it.
  const answersBeforeSignal = new Array<number>(CLIENTS).fill(0);
  let warmClients = 0;
  let signalled = false;
  let onWarm: () => void = () => undefined;
  const warm = new Promise<void>((resolve) => {
    onWarm = resolve;
  });
  const agents = Array.from({ length: CLIENTS }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  // Each client sends its next request as soon as the last is answered, until one is refused.
  const clients = agents.map(async (agent, client) => {
    for (let answers = 0; ; answers++) {
      const checked = await check(port, agent);
      const outcome =
        checked.kind === 'reset' ? { ...checked, why: `${checked.why}, after ${answers} answers` } : checked;
      outcomes.push(outcome);
      if (outcome.kind !== 'answered') return;
      if (!signalled && ++answersBeforeSignal[client]! === WARM_ANSWERS && ++warmClients === CLIENTS)
        onWarm();
    }
  });
  await warm;
  signalled = true;
  child.kill('SIGTERM');
  await Promise.all(clients);
  for (const agent of agents) agent.destroy();
  expect(await exited).toBe(0);

  const resets = outcomes.filter((o) => o.kind === 'reset');
  const answered = outcomes.filter((o) => o.kind === 'answered');
  expect(resets).toEqual([]);
  // Every client ends refused: the listener is closed, and each was told to reconnect.
  expect(outcomes.filter((o) => o.kind === 'refused')).toHaveLength(CLIENTS);
  expect(answered.every((o) => o.kind === 'answered' && o.status === 200)).toBe(true);
  // Those answered after the drain began were told to close their connection.
  expect(answered.filter((o) => o.kind === 'answered' && o.close).length).toBeGreaterThanOrEqual(1);
  console.info(
    `keep-alive through SIGTERM: ${answered.length} answered, ${CLIENTS} refused, ${resets.length} reset`,
  );
});
