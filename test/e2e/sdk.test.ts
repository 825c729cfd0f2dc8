// End-to-end: the real SDK against a real `gatehouse serve`, one suite run over gRPC and over HTTP.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatehouseProcess, requestCount, startGatehouse, TOKEN } from './support/gatehouse-process.js';
import {
  AlreadyExistsError,
  createGrpcTransport,
  createHttpTransport,
  DeadlineExceededError,
  FailedPreconditionError,
  GatehouseClient,
  type GatehouseError,
  InvalidArgumentError,
  ResourceExhaustedError,
  requirePermission,
  type Transport,
  UnauthenticatedError,
  UnavailableError,
  type WatchEvent,
} from './support/sdk.js';

type Kind = 'grpc' | 'http';

const MAX_BATCH = 50;

/** A transport to `server`; `token: null` sends none. */
function transportFor(kind: Kind, server: GatehouseProcess, token: string | null = TOKEN): Transport {
  return kind === 'grpc'
    ? createGrpcTransport({ address: server.grpc, token: token ?? undefined })
    : createHttpTransport({ baseUrl: `http://${server.http}`, token: token ?? undefined });
}

async function failure(promise: Promise<unknown>): Promise<GatehouseError> {
  try {
    await promise;
  } catch (err) {
    return err as GatehouseError;
  }
  throw new Error('expected the call to fail');
}

describe.each([['grpc'], ['http']] as const)('SDK over %s against gatehouse serve', (kind) => {
  let server: GatehouseProcess;
  let client: GatehouseClient;
  const closers: Array<{ close(): Promise<void> }> = [];

  const newClient = (
    options?: ConstructorParameters<typeof GatehouseClient>[1],
    token: string | null = TOKEN,
  ): GatehouseClient => {
    // A generous default deadline: only the tests about deadlines set short ones.
    const c = new GatehouseClient(transportFor(kind, server, token), {
      defaultTimeoutMs: 60_000,
      ...options,
    });
    closers.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startGatehouse({ args: ['--max-batch-size', String(MAX_BATCH)] });
    client = newClient({ batching: { maxBatchSize: MAX_BATCH } });
  });

  afterAll(async () => {
    for (const c of closers) await c.close();
    const code = await server?.stop();
    expect(code).toBe(0);
  });

  describe('decisions', () => {
    it('answers checks through direct and nested group membership', async () => {
      await expect(client.check('contact:prospect1#view@user:mike')).resolves.toMatchObject({
        allowed: true,
      });
      await expect(client.check('contact:prospect1#view@user:lena')).resolves.toMatchObject({
        allowed: true,
      });
      await expect(client.check('contact:prospect2#view@user:lena')).resolves.toMatchObject({
        allowed: false,
      });
      const { checkedAt } = await client.check({
        resource: 'contact:private1',
        permission: 'view',
        subject: 'user:olivia',
      });
      expect(checkedAt).not.toBe('');
    });

    it('answers an explicit batch in order, with a per-item error for the bad item only', async () => {
      const { results } = await client.checkBatch([
        'contact:prospect1#view@user:mike',
        'contact:prospect1#vieww@user:mike',
        'contact:private1#view@user:mike',
      ]);
      expect(results[0]).toEqual({ allowed: true, permissionship: 'allowed' });
      expect(results[1]?.error).toBeInstanceOf(InvalidArgumentError);
      expect(results[1]?.error?.message).toContain("'vieww'");
      expect(results[2]).toEqual({ allowed: false, permissionship: 'denied' });
    });

    it('sends N concurrent checks as exactly one CheckBatch (observed in /metrics)', async () => {
      const before = {
        batch: await requestCount(server.http, kind, 'CheckBatch'),
        check: await requestCount(server.http, kind, 'Check'),
      };
      const users = ['mike', 'john', 'lena', 'olivia', 'stranger'];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          client.check(`contact:prospect1#view@user:${users[i % users.length]}`),
        ),
      );
      expect(results.map((r) => r.allowed)).toEqual(
        Array.from({ length: 20 }, (_, i) =>
          ['mike', 'john', 'lena'].includes(users[i % users.length] ?? ''),
        ),
      );
      expect(await requestCount(server.http, kind, 'CheckBatch')).toBe(before.batch + 1);
      expect(await requestCount(server.http, kind, 'Check')).toBe(before.check);
    });

    it('pages lookupResources to the complete set', async () => {
      const lookup = client.lookupResources({
        resourceType: 'contact',
        permission: 'view',
        subject: 'user:john',
        pageSize: 1,
      });
      const pages = [];
      for await (const page of lookup.pages()) pages.push(page);
      expect(pages.flatMap((p) => p.resourceIds).sort()).toEqual(['prospect1', 'prospect2']);
      expect(pages.length).toBeGreaterThanOrEqual(2);
      expect(pages.at(-1)?.nextCursor).toBe('');
    });

    it('looks up the subjects of a permission, through nested groups', async () => {
      const result = await client.lookupSubjects({
        resource: 'contact:prospect1',
        permission: 'view',
        subjectType: 'user',
      });
      expect([...result.subjectIds].sort()).toEqual(['john', 'lena', 'mike']);
      expect(result.wildcard).toBe(false);
    });

    it('explains an allowed check down to the relationships that granted it', async () => {
      const { allowed, root } = await client.explain('contact:prospect1#view@user:lena');
      expect(allowed).toBe(true);
      expect(root).toMatchObject({ object: 'contact:prospect1', label: 'view', result: true });
      const labels: string[] = [];
      const walk = (n: NonNullable<typeof root>): void => {
        if (n.result && n.kind === 'direct') labels.push(n.label);
        n.children.forEach(walk);
      };
      walk(root!);
      expect(labels).toContain('group:leads#member@user:lena');
    });

    it('guards a Hono route with the real decision', async () => {
      const app = new Hono();
      app.get(
        '/contacts/:id',
        requirePermission({
          client,
          permission: 'view',
          resource: (c) => `contact:${c.req.param('id')}`,
          subject: (c) => `user:${c.req.header('x-user') ?? ''}`,
        }),
        (c) => c.text(`contact ${c.req.param('id')}`),
      );
      const as = async (user: string): Promise<Response> =>
        app.request('/contacts/prospect1', { headers: { 'x-user': user } });
      expect((await as('lena')).status).toBe(200);
      expect((await as('olivia')).status).toBe(403);
      // A malformed id is the request's fault (the server's INVALID_ARGUMENT on the subject): 400.
      const malformed = await as('bad id!');
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    });

    it('reads the schema and validates policy files with positions', async () => {
      const { schema, schemaHash } = await client.readSchema();
      expect(schemaHash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(schema)).toContain('contact');
      const ok = await client.validatePolicies([
        { path: 'x/schema.yaml', content: 'kind: schema\ntypes:\n  user: {}\n' },
      ]);
      expect(ok).toEqual({ valid: true, problems: [] });
      const bad = await client.validatePolicies([
        {
          path: 'x/schema.yaml',
          content: 'kind: schema\ntypes:\n  doc:\n    relations:\n      owner: usr\n',
        },
      ]);
      expect(bad.valid).toBe(false);
      expect(bad.problems[0]).toMatchObject({
        file: 'x/schema.yaml',
        line: 5,
        message: expect.stringContaining("'usr'"),
      });
    });
  });

  describe('errors', () => {
    it('rejects a malformed id, naming it and the field', async () => {
      const err = await failure(
        client.check({
          resource: { type: 'contact', id: 'bad id!' },
          permission: 'view',
          subject: 'user:mike',
        }),
      );
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err).toMatchObject({ field: 'resource', message: expect.stringContaining("'bad id!'") });
    });

    it('rejects an unknown type and an unknown permission with a suggestion', async () => {
      const type = await failure(client.check('contat:p1#view@user:mike'));
      expect(type).toBeInstanceOf(InvalidArgumentError);
      expect(type.message).toContain("'contat'");
      const permission = await failure(client.check('contact:prospect1#vew@user:mike'));
      expect(permission).toBeInstanceOf(InvalidArgumentError);
      expect(permission.message).toContain("'vew'");
    });

    it('rejects a batch over the server limit as a whole', async () => {
      const items = Array.from({ length: MAX_BATCH + 1 }, () => 'contact:prospect1#view@user:mike');
      const err = await failure(client.checkBatch(items));
      expect(err).toBeInstanceOf(ResourceExhaustedError);
      expect(err.message).toContain(String(MAX_BATCH));
    });

    it('splits an automatic batch over the server limit instead of failing it', async () => {
      const results = await Promise.all(
        Array.from({ length: MAX_BATCH * 2 + 1 }, () => client.check('contact:prospect1#view@user:mike')),
      );
      expect(results.every((r) => r.allowed)).toBe(true);
    });

    it('refuses a write without the bearer token and leaves state unchanged', async () => {
      const anonymous = newClient({}, null);
      const err = await failure(anonymous.write({ touch: [`group:anon_${kind}#member@user:eve`] }));
      expect(err).toBeInstanceOf(UnauthenticatedError);
      const stored = await client
        .read({ filter: { resourceType: 'group', resourceId: `anon_${kind}` } })
        .toArray();
      expect(stored).toEqual([]);
    });
  });

  describe('writes', () => {
    it('applies a write only when its preconditions hold', async () => {
      const rel = `group:team_${kind}#member@user:ann`;
      const failed = await failure(
        client.write({
          touch: [rel],
          preconditions: [
            { operation: 'must-match', filter: { resourceType: 'group', resourceId: `nobody_${kind}` } },
          ],
        }),
      );
      expect(failed).toBeInstanceOf(FailedPreconditionError);
      expect(failed.field).toBe('preconditions[0]');
      const written = await client.write({
        touch: [rel],
        preconditions: [
          { operation: 'must-not-match', filter: { resourceType: 'group', resourceId: `team_${kind}` } },
        ],
      });
      expect(written.writtenAt).not.toBe('');
      const again = await failure(client.write({ create: [rel] }));
      expect(again).toBeInstanceOf(AlreadyExistsError);
    });

    it('reads its own writes with read-your-writes consistency', async () => {
      const ryw = newClient({ consistency: 'read-your-writes' });
      await ryw.write({ touch: [`contact:ryw_${kind}#owner@user:rita`] });
      expect(ryw.lastWriteToken).toBeDefined();
      await expect(ryw.check(`contact:ryw_${kind}#view@user:rita`)).resolves.toMatchObject({ allowed: true });
      await expect(
        client.check(`contact:ryw_${kind}#view@user:rita`, {
          consistency: { atLeastAsFresh: ryw.lastWriteToken! },
        }),
      ).resolves.toMatchObject({ allowed: true });
    });

    it('deletes relationships by filter and reports the count', async () => {
      await client.write({ touch: [`group:tmp_${kind}#member@user:a`, `group:tmp_${kind}#member@user:b`] });
      const { deletedCount } = await client.deleteRelationships({
        filter: { resourceType: 'group', resourceId: `tmp_${kind}` },
      });
      expect(deletedCount).toBe(2);
    });

    it('pages a read without losing or repeating relationships', async () => {
      const members = Array.from({ length: 7 }, (_, i) => `group:paged_${kind}#member@user:u${i}`);
      await client.write({ touch: members });
      const filter = { resourceType: 'group', resourceId: `paged_${kind}` };
      let pages = 0;
      const seen: string[] = [];
      for await (const page of client.read({ filter, pageSize: 3 }).pages()) {
        pages++;
        seen.push(...page.relationships.map((r) => r.subject.id));
      }
      expect(pages).toBe(3);
      expect(seen.sort()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
    });

    it('streams committed changes to a watcher until it aborts', async () => {
      const { writtenAt } = await client.write({ touch: [`group:watched_${kind}#member@user:w0`] });
      const stop = new AbortController();
      const events: WatchEvent[] = [];
      const watching = (async () => {
        for await (const event of client.watch({ after: writtenAt, signal: stop.signal })) {
          events.push(event);
          if (events.length === 2) stop.abort();
        }
      })();
      await client.write({ touch: [`group:watched_${kind}#member@user:w1`] });
      await client.write({ delete: [`group:watched_${kind}#member@user:w0`] });
      await watching;
      expect(events.map((e) => e.changes.map((c) => `${c.operation} ${c.relationship.subject.id}`))).toEqual([
        ['insert w1'],
        ['delete w0'],
      ]);
    });

    it('deletes a group: shared items stay with the other group, items only it saw revert to everyone', async () => {
      // The seed's example: Prospect1 is visible to Marketing and Sales, Prospect2 to Marketing only.
      await expect(client.check('contact:prospect2#view@user:stranger')).resolves.toMatchObject({
        allowed: false,
      });
      const result = await client.deleteObject('group:marketing', {});
      expect(result.consequences).toEqual([
        {
          resource: { type: 'contact', id: 'prospect2' },
          relation: 'viewer',
          subject: { type: 'user', id: '*' },
        },
      ]);
      const fresh = { consistency: { atLeastAsFresh: result.deletedAt } } as const;
      const answers = await Promise.all([
        client.check('contact:prospect1#view@user:john', fresh),
        client.check('contact:prospect1#view@user:mike', fresh),
        client.check('contact:prospect2#view@user:stranger', fresh),
      ]);
      expect(answers.map((a) => a.allowed)).toEqual([true, false, true]);
    });
  });

  describe('deadlines and failures', () => {
    it('fails with DeadlineExceededError when the server does not answer in time, then recovers', async () => {
      const probe = newClient({ batching: false, retries: false });
      await probe.check('contact:prospect1#view@user:john'); // connect first: only the answer is late
      server.child.kill('SIGSTOP');
      try {
        const err = await failure(probe.check('contact:prospect1#view@user:john', { timeoutMs: 300 }));
        expect(err).toBeInstanceOf(DeadlineExceededError);
      } finally {
        server.child.kill('SIGCONT');
      }
      await expect(
        probe.check('contact:prospect1#view@user:john', { timeoutMs: 60_000 }),
      ).resolves.toMatchObject({
        allowed: true,
      });
    });

    it('drains ~200 in-flight checks on SIGTERM: each is answered in full or refused as UNAVAILABLE, exit 0', async () => {
      const target = await startGatehouse();
      const c = new GatehouseClient(transportFor(kind, target), {
        batching: false,
        retries: false,
        defaultTimeoutMs: 60_000,
      });
      closers.push(c);
      const expected = (i: number): boolean => i % 2 === 0;
      const wave = (): Promise<boolean>[] =>
        Array.from({ length: 200 }, (_, i) =>
          c
            .check(expected(i) ? 'contact:prospect1#view@user:john' : 'contact:private1#view@user:john')
            .then((r) => r.allowed),
        );
      // A first wave opens the connections (HTTP keeps ~200 alive), so the second is on the wire at once.
      await Promise.all(wave());
      const calls = wave();
      const settled = Promise.allSettled(calls);
      const watching = (async () => {
        for await (const _ of c.watch()) {
          // no writes happen: the watcher only waits
        }
      })().catch((err: unknown) => err);
      await Promise.race(calls); // the server is busy answering them
      const exitCode = target.stop('SIGTERM');
      const results = await settled;
      expect(await exitCode).toBe(0);
      expect(await watching).toBeInstanceOf(UnavailableError); // told to resume elsewhere, not left hanging
      const answered = results.filter((r) => r.status === 'fulfilled').length;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') expect(r.value).toBe(expected(i));
        else expect(r.reason).toBeInstanceOf(UnavailableError);
      });
      expect(answered).toBeGreaterThan(0);
      expect(target.output.join('\n')).not.toContain('internal error');
      console.info(
        `graceful shutdown over ${kind}: ${answered}/200 answered, ${200 - answered} refused as UNAVAILABLE`,
      );
    });

    it('reaches a server listening on unix sockets', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
      const local = await startGatehouse({
        listen: { http: `unix:${dir}/http.sock`, grpc: `unix:${dir}/grpc.sock` },
      });
      try {
        expect(local.grpc).toBe(`unix:${dir}/grpc.sock`);
        const transport =
          kind === 'grpc'
            ? createGrpcTransport({ address: local.grpc, token: TOKEN })
            : createHttpTransport({
                baseUrl: 'http://gatehouse',
                socketPath: `${dir}/http.sock`,
                token: TOKEN,
              });
        const c = new GatehouseClient(transport, { defaultTimeoutMs: 60_000 });
        closers.push(c);
        const { writtenAt } = await c.write({ touch: ['contact:sock#owner@user:sam'] });
        await expect(
          c.check('contact:sock#view@user:sam', { consistency: { atLeastAsFresh: writtenAt } }),
        ).resolves.toMatchObject({ allowed: true });
      } finally {
        expect(await local.stop()).toBe(0);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('retries reads a bounded number of times, then fails with UnavailableError, when the server is gone', async () => {
      const doomed = await startGatehouse();
      let attempts = 0;
      const inner = transportFor(kind, doomed);
      const counting: Transport = {
        unary: (method, request, options) => {
          attempts++;
          return inner.unary(method, request, options);
        },
        serverStream: (method, request, options) => inner.serverStream(method, request, options),
        close: () => inner.close(),
      };
      const c = new GatehouseClient(counting, {
        retries: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 20 },
      });
      // The deadline must not run out before the three refused attempts, however slow the machine.
      closers.push(c);
      await expect(c.check('contact:prospect1#view@user:mike')).resolves.toMatchObject({ allowed: true });
      await doomed.stop('SIGKILL');
      attempts = 0;
      const err = await failure(c.check('contact:prospect1#view@user:mike', { timeoutMs: 60_000 }));
      expect(err).toBeInstanceOf(UnavailableError);
      expect(attempts).toBe(3);
    });
  });
});
