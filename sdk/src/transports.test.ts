// One contract suite for every transport: the same client behaviour over gRPC and HTTP fake servers.
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClientOptions, GatehouseClient } from './client.js';
import {
  AbortedError,
  AlreadyExistsError,
  CancelledError,
  DeadlineExceededError,
  type ErrorCode,
  FailedPreconditionError,
  type GatehouseError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from './errors.js';
import { createGrpcTransport } from './grpc/index.js';
import { createHttpTransport } from './http/index.js';
import { delay, type FakeBackend, FakeError, type FakeServer } from './test-support/fake-backend.js';
import { startFakeGrpcServer } from './test-support/fake-grpc-server.js';
import { startFakeHttpServer } from './test-support/fake-http-server.js';
import type { Transport } from './transport.js';

type Kind = 'grpc' | 'http';

const start = (kind: Kind, backend: FakeBackend): Promise<FakeServer> =>
  kind === 'grpc' ? startFakeGrpcServer(backend) : startFakeHttpServer(backend);

const transportFor = (kind: Kind, address: string, token?: string): Transport =>
  kind === 'grpc'
    ? createGrpcTransport({ address, token })
    : createHttpTransport({ baseUrl: address, token });

const allowed = { permissionship: 'PERMISSIONSHIP_HAS_PERMISSION', checkedAt: { token: 'r1' } };

describe.each([['grpc'], ['http']] as const)('client over %s', (kind) => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  async function setup(backend: FakeBackend, options: ClientOptions = {}, token?: string) {
    const server = await start(kind, backend);
    open.push(server);
    // A generous default deadline: only the deadline tests set short ones.
    const client = new GatehouseClient(transportFor(kind, server.address, token), {
      defaultTimeoutMs: 60_000,
      ...options,
    });
    open.push(client);
    return { server, client };
  }

  it('sends a check in proto3 JSON form with the bearer token and request id', async () => {
    const { server, client } = await setup({ unary: { Check: () => allowed } }, {}, 'secret');
    const result = await client.check('contact:p1#view@group:g#member', { requestId: 'req-7' });
    expect(result).toEqual({ allowed: true, permissionship: 'allowed', checkedAt: 'r1' });
    const [call] = server.calls;
    expect(call?.request).toMatchObject({
      consistency: { minimizeLatency: true },
      resource: { objectType: 'contact', objectId: 'p1' },
      permission: 'view',
      subject: { object: { objectType: 'group', objectId: 'g' }, optionalRelation: 'member' },
    });
    expect(call?.headers.authorization).toBe('Bearer secret');
    expect(call?.headers['x-request-id']).toBe('req-7');
  });

  it('sends the token exactly, and refuses one it could not send exactly before any call', async () => {
    const token = 'a.B-c_d~e+f/g=';
    const { server, client } = await setup({ unary: { Check: () => allowed } }, {}, token);
    await client.check('doc:a#view@user:u');
    expect(server.calls[0]?.headers.authorization).toBe(`Bearer ${token}`);
    for (const bad of [' secret', 'secret ', 'secret\n', 'sec ret', '', '   ', 'caf\u00e9']) {
      expect(() => transportFor(kind, server.address, bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'token' }),
      );
    }
  });

  it('coalesces concurrent checks into exactly one CheckBatch and answers each in order', async () => {
    const { server, client } = await setup({
      unary: {
        CheckBatch: ({ request }) => ({
          results: (request.items as Array<{ resource: { objectId: string } }>).map((item) =>
            item.resource.objectId === 'bad'
              ? {
                  error: {
                    code: 'INVALID_ARGUMENT',
                    message: "unknown permission 'vieww'",
                    field: 'permission',
                  },
                }
              : {
                  permissionship: item.resource.objectId.endsWith('y')
                    ? 'PERMISSIONSHIP_HAS_PERMISSION'
                    : 'PERMISSIONSHIP_NO_PERMISSION',
                },
          ),
          checkedAt: { token: 'r9' },
        }),
      },
    });
    const ids = ['ay', 'bn', 'bad', 'cy', 'dn'];
    const settled = await Promise.allSettled(ids.map((id) => client.check(`doc:${id}#view@user:u`)));
    expect(server.calls.map((c) => c.method)).toEqual(['CheckBatch']);
    expect(server.calls[0]?.request.items).toHaveLength(5);
    expect(
      settled.map((s) => (s.status === 'fulfilled' ? s.value.allowed : (s.reason as GatehouseError).code)),
    ).toEqual([true, false, 'INVALID_ARGUMENT', true, false]);
    expect((settled[2] as PromiseRejectedResult).reason).toMatchObject({ field: 'permission' });
  });

  it.each<[ErrorCode, new (...args: never[]) => GatehouseError]>([
    ['INVALID_ARGUMENT', InvalidArgumentError],
    ['UNAUTHENTICATED', UnauthenticatedError],
    ['PERMISSION_DENIED', PermissionDeniedError],
    ['NOT_FOUND', NotFoundError],
    ['FAILED_PRECONDITION', FailedPreconditionError],
    ['ALREADY_EXISTS', AlreadyExistsError],
    ['ABORTED', AbortedError],
    ['RESOURCE_EXHAUSTED', ResourceExhaustedError],
    ['DEADLINE_EXCEEDED', DeadlineExceededError],
    ['UNAVAILABLE', UnavailableError],
    ['INTERNAL', InternalError],
  ])('maps a %s answer to its typed error with message and field', async (code, ErrorClass) => {
    const { client } = await setup({
      unary: {
        WriteRelationships: () => {
          throw new FakeError(code, `failure ${code}`, 'updates[0].relationship');
        },
      },
    });
    const err = await client.write({ touch: ['group:g#member@user:u'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ErrorClass);
    expect(err).toMatchObject({
      code,
      message: expect.stringContaining(`failure ${code}`),
      field: 'updates[0].relationship',
    });
  });

  it('retries a read on UNAVAILABLE and succeeds when the server recovers', async () => {
    let failures = 2;
    const { server, client } = await setup(
      {
        unary: {
          Check: () => {
            if (failures-- > 0) throw new FakeError('UNAVAILABLE', 'warming up');
            return allowed;
          },
        },
      },
      { retries: { initialBackoffMs: 1, maxBackoffMs: 2 }, batching: false },
    );
    await expect(client.check('doc:a#view@user:u')).resolves.toMatchObject({ allowed: true });
    expect(server.calls).toHaveLength(3);
  });

  it('does not retry INVALID_ARGUMENT, nor a write that failed with UNAVAILABLE', async () => {
    const { server, client } = await setup(
      {
        unary: {
          Check: () => {
            throw new FakeError('INVALID_ARGUMENT', "unknown type 'dco'", 'resource');
          },
          WriteRelationships: () => {
            throw new FakeError('UNAVAILABLE', 'store down');
          },
        },
      },
      { retries: { initialBackoffMs: 1, maxBackoffMs: 2 }, batching: false },
    );
    await expect(client.check('dco:a#view@user:u')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.write({ touch: ['doc:a#viewer@user:u'] })).rejects.toBeInstanceOf(UnavailableError);
    expect(server.calls.map((c) => c.method)).toEqual(['Check', 'WriteRelationships']);
  });

  it('fails with UnavailableError after bounded retries when nothing listens', async () => {
    const server = await start(kind, {});
    const address = server.address;
    await server.close();
    const client = new GatehouseClient(transportFor(kind, address), {
      retries: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 },
      // Long enough that both refused attempts happen before it, however slow the machine.
      defaultTimeoutMs: 60_000,
    });
    open.push(client);
    await expect(client.check('doc:a#view@user:u')).rejects.toBeInstanceOf(UnavailableError);
  });

  it('sends the deadline to the server and fails with DeadlineExceededError when it passes', async () => {
    const { server, client } = await setup(
      {
        unary: {
          // Never answers: only the deadline (or the client leaving) ends the call.
          Check: async ({ signal }) => {
            await delay(600_000, signal);
            return allowed;
          },
        },
      },
      { batching: false },
    );
    // Generous: the call must reach the server before its deadline even on a loaded machine.
    const err = await client.check('doc:a#view@user:u', { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    const timeout = server.calls[0]?.timeoutMs;
    expect(timeout).toBeGreaterThan(0);
    expect(timeout).toBeLessThanOrEqual(5_000);
  });

  it('cancels a call when its AbortSignal aborts', async () => {
    const { client } = await setup(
      {
        unary: {
          LookupSubjects: async ({ signal }) => {
            await delay(5_000, signal);
            return {};
          },
        },
      },
      {},
    );
    const controller = new AbortController();
    const pending = client.lookupSubjects(
      { resource: 'doc:a', permission: 'view', subjectType: 'user' },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });

  it('pages lookupResources to the end, resuming with each cursor', async () => {
    const pages = [
      { resourceObjectIds: ['a', 'b'], nextCursor: 'c1', lookedUpAt: { token: 'r3' } },
      { resourceObjectIds: ['c'], nextCursor: 'c2', lookedUpAt: { token: 'r3' } },
      { resourceObjectIds: ['d'], lookedUpAt: { token: 'r3' } },
    ];
    const { client } = await setup({
      stream: {
        // gRPC streams the pages after the cursor; HTTP takes the first of them per call.
        LookupResources: async function* ({ request }) {
          const from = request.cursor === 'c1' ? 1 : request.cursor === 'c2' ? 2 : 0;
          yield* pages.slice(from);
        },
      },
    });
    const ids = await client
      .lookupResources({ resourceType: 'doc', permission: 'view', subject: 'user:u', pageSize: 2 })
      .toArray();
    expect(ids).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads the deletion consequences and uint64 counts of deleteObject', async () => {
    const { client } = await setup({
      unary: {
        DeleteObject: () => ({
          deletedAt: { token: 'r5' },
          deletedCount: '3',
          consequences: [
            {
              resource: { objectType: 'contact', objectId: 'p2' },
              relation: 'viewer',
              subject: { object: { objectType: 'user', objectId: '*' } },
            },
          ],
        }),
      },
    });
    const result = await client.deleteObject('group:marketing');
    expect(result).toEqual({
      deletedAt: 'r5',
      deletedCount: 3,
      consequences: [
        { resource: { type: 'contact', id: 'p2' }, relation: 'viewer', subject: { type: 'user', id: '*' } },
      ],
    });
    expect(client.lastWriteToken).toBe('r5');
  });

  it('streams watch events until the signal aborts, then ends without error', async () => {
    const { client } = await setup({
      stream: {
        Watch: async function* ({ signal }) {
          for (let i = 1; !signal.aborted; i++) {
            yield {
              changes: [
                {
                  operation: i % 2 === 0 ? 'OPERATION_DELETE' : 'OPERATION_INSERT',
                  relationship: {
                    resource: { objectType: 'group', objectId: 'g' },
                    relation: 'member',
                    subject: { object: { objectType: 'user', objectId: `u${i}` } },
                  },
                },
              ],
              changesThrough: { token: `r${i}` },
            };
            await delay(5, signal);
          }
        },
      },
    });
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const event of client.watch({ signal: controller.signal })) {
      const [change] = event.changes;
      seen.push(`${change?.operation}:${change?.relationship.subject.id}@${event.changesThrough}`);
      if (seen.length === 3) controller.abort();
    }
    expect(seen).toEqual(['insert:u1@r1', 'delete:u2@r2', 'insert:u3@r3']);
  });

  it('throws UnavailableError, after the events it got, when the server ends a watch', async () => {
    const { client } = await setup({
      stream: {
        Watch: async function* () {
          yield { changes: [], changesThrough: { token: 'r4' } };
        },
      },
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of client.watch({ after: 'r3' })) seen.push(event.changesThrough);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['r4']);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain("after: 'r4'");
  });

  it('fails calls made after close with CancelledError, without retrying', async () => {
    const { server, client } = await setup({ unary: { Check: () => allowed } }, { batching: false });
    await client.check('doc:a#view@user:u');
    await client.close();
    await expect(client.check('doc:a#view@user:u')).rejects.toBeInstanceOf(CancelledError);
    expect(server.calls).toHaveLength(1);
  });

  it('sends queued checks on close and lets calls in flight finish before closing', async () => {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { server, client } = await setup({
      unary: {
        Check: async () => {
          await released;
          return allowed;
        },
        LookupSubjects: async () => {
          await released;
          return { subjectObjectIds: ['ann'] };
        },
      },
    });
    const lookup = client.lookupSubjects({ resource: 'doc:a', permission: 'view', subjectType: 'user' });
    const queued = client.check('doc:a#view@user:u'); // still queued for its batch when close() starts
    const closed = client.close();
    await expect(client.check('doc:b#view@user:u')).rejects.toBeInstanceOf(CancelledError);
    for (let i = 0; server.calls.length < 2 && i < 2000; i++) await delay(5);
    release();
    await expect(queued).resolves.toMatchObject({ allowed: true });
    await expect(lookup).resolves.toMatchObject({ subjectIds: ['ann'] });
    await closed;
    await expect(client.readSchema()).rejects.toBeInstanceOf(CancelledError);
    expect(server.calls.map((c) => c.method).sort()).toEqual(['Check', 'LookupSubjects']);
  });

  it('ends a watch in progress with CancelledError when the client closes', async () => {
    const { server, client } = await setup({
      stream: {
        Watch: async function* ({ signal }) {
          yield { changes: [], changesThrough: { token: 'r1' } };
          await delay(60_000, signal);
        },
      },
    });
    const seen: string[] = [];
    const watching = (async () => {
      for await (const event of client.watch()) {
        seen.push(event.changesThrough);
        void client.close();
      }
    })();
    await expect(watching).rejects.toBeInstanceOf(CancelledError);
    expect(seen).toEqual(['r1']);
    expect(server.calls).toHaveLength(1);
  });

  it('adds one abort listener to a signal shared by many concurrent calls, and removes it', async () => {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { server, client } = await setup(
      {
        unary: {
          Check: async () => {
            await released;
            return allowed;
          },
        },
      },
      { batching: false },
    );
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const request = new AbortController();
      const checks = Array.from({ length: 30 }, (_, i) =>
        client.check(`doc:d${i}#view@user:u`, { signal: request.signal }),
      );
      for (let i = 0; server.calls.length < 30 && i < 4000; i++) await delay(5);
      expect(getEventListeners(request.signal, 'abort')).toHaveLength(1);
      release();
      await Promise.all(checks);
      expect(getEventListeners(request.signal, 'abort')).toHaveLength(0);
      await delay(10); // warnings are emitted on the next tick
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('parses the schema JSON and validation problems', async () => {
    const { client } = await setup({
      unary: {
        ReadSchema: () => ({ schemaJson: '{"types":{"user":{}}}', schemaHash: 'abc' }),
        ValidatePolicies: () => ({
          problems: [
            { file: 'a.yaml', line: 3, column: 7, path: '$.types.doc', message: "unknown type 'usr'" },
          ],
        }),
      },
    });
    await expect(client.readSchema()).resolves.toMatchObject({
      schema: { types: { user: {} } },
      schemaHash: 'abc',
    });
    await expect(client.validatePolicies([{ path: 'a.yaml', content: 'kind: schema' }])).resolves.toEqual({
      valid: false,
      problems: [{ file: 'a.yaml', line: 3, column: 7, path: '$.types.doc', message: "unknown type 'usr'" }],
    });
  });

  it('sends context and contextual relationships, and reads a conditional answer with its missing context', async () => {
    const { server, client } = await setup({
      unary: {
        Check: () => ({
          permissionship: 'PERMISSIONSHIP_CONDITIONAL_PERMISSION',
          missingContext: ['ip', 'now'],
          checkedAt: { token: 'r2' },
        }),
      },
    });
    const result = await client.check({
      resource: 'doc:1',
      permission: 'view',
      subject: 'user:ann',
      context: { region: 'eu', limits: [1, 2.5], nested: { on: true, none: null } },
      contextualRelationships: [
        'doc:1#viewer@user:ann[office_hours:{"tz":"UTC"}][expiration:2030-01-02T03:04:05.678Z]',
      ],
    });
    expect(result).toEqual({
      allowed: false,
      permissionship: 'conditional',
      missingContext: ['ip', 'now'],
      checkedAt: 'r2',
    });
    // The server saw the same proto3 JSON over either transport: a plain object, an RFC 3339 string.
    expect(server.calls[0]?.request).toMatchObject({
      context: { region: 'eu', limits: [1, 2.5], nested: { on: true, none: null } },
      contextualRelationships: [
        {
          resource: { objectType: 'doc', objectId: '1' },
          relation: 'viewer',
          subject: { object: { objectType: 'user', objectId: 'ann' } },
          optionalCondition: { name: 'office_hours', context: { tz: 'UTC' } },
          optionalExpiresAt: '2030-01-02T03:04:05.678Z',
        },
      ],
    });
  });

  it('answers batch items and lookups with conditional results', async () => {
    const { server, client } = await setup({
      unary: {
        CheckBatch: () => ({
          results: [
            { permissionship: 'PERMISSIONSHIP_HAS_PERMISSION' },
            { permissionship: 'PERMISSIONSHIP_CONDITIONAL_PERMISSION', missingContext: ['ip'] },
          ],
          checkedAt: { token: 'r3' },
        }),
        LookupSubjects: () => ({
          subjectObjectIds: ['a'],
          conditionalSubjects: [{ objectId: 'b', missingContext: ['ip'] }],
          lookedUpAt: { token: 'r3' },
        }),
      },
      stream: {
        LookupResources: async function* () {
          yield {
            resourceObjectIds: ['d1'],
            conditionalResources: [{ objectId: 'd2', missingContext: ['ip', 'now'] }],
            lookedUpAt: { token: 'r3' },
          };
        },
      },
    });
    const batch = await client.checkBatch([
      'doc:1#view@user:ann',
      { resource: 'doc:2', permission: 'view', subject: 'user:ann', context: { ip: 7 } },
    ]);
    expect(batch.results).toEqual([
      { allowed: true, permissionship: 'allowed' },
      { allowed: false, permissionship: 'conditional', missingContext: ['ip'] },
    ]);
    expect((server.calls[0]?.request.items as unknown[] | undefined)?.[1]).toMatchObject({
      context: { ip: 7 },
    });
    const pages = [];
    const lookup = { resourceType: 'doc', permission: 'view', subject: 'user:ann', context: { now: 'x' } };
    for await (const page of client.lookupResources(lookup).pages()) pages.push(page);
    expect(pages[0]).toMatchObject({
      resourceIds: ['d1'],
      conditional: [{ id: 'd2', missingContext: ['ip', 'now'] }],
    });
    expect(server.calls.find((c) => c.method === 'LookupResources')?.request).toMatchObject({
      context: { now: 'x' },
    });
    const subjects = await client.lookupSubjects({
      resource: 'doc:1',
      permission: 'view',
      subjectType: 'user',
    });
    expect(subjects.conditional).toEqual([{ id: 'b', missingContext: ['ip'] }]);
  });

  it('writes and reads relationships with their condition and expiry', async () => {
    const stored = {
      resource: { objectType: 'doc', objectId: '1' },
      relation: 'viewer',
      subject: { object: { objectType: 'user', objectId: 'ann' } },
      optionalCondition: { name: 'ip_allowlist', context: { cidrs: ['10.0.0.0/8'] } },
      optionalExpiresAt: '2030-01-02T03:04:05.678Z',
    };
    const { server, client } = await setup({
      unary: {
        WriteRelationships: () => ({ writtenAt: { token: 'r4' } }),
        ReadRelationships: () => ({ relationships: [stored], readAt: { token: 'r4' } }),
      },
    });
    await client.write({
      touch: [
        {
          resource: 'doc:1',
          relation: 'viewer',
          subject: 'user:ann',
          condition: { name: 'ip_allowlist', context: { cidrs: ['10.0.0.0/8'] } },
          expiresAt: new Date('2030-01-02T03:04:05.678Z'),
        },
      ],
    });
    expect(server.calls[0]?.request).toMatchObject({ updates: [{ relationship: stored }] });
    const read = await client.read({ filter: { resourceType: 'doc' } }).toArray();
    expect(read).toEqual([
      {
        resource: { type: 'doc', id: '1' },
        relation: 'viewer',
        subject: { type: 'user', id: 'ann' },
        condition: { name: 'ip_allowlist', context: { cidrs: ['10.0.0.0/8'] } },
        expiresAt: new Date('2030-01-02T03:04:05.678Z'),
      },
    ]);
  });

  it('refuses context JSON cannot carry before any call, without throwing out of the host', async () => {
    const { server, client } = await setup({ unary: { Check: () => allowed } });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad = [{ context: cyclic }, { context: { n: 10n } }, { context: [1] as never }];
    for (const extra of bad) {
      const err = await client
        .check({ resource: 'doc:1', permission: 'view', subject: 'user:a', ...extra })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'context' });
    }
    const badExpiry = await client
      .write({ touch: [{ resource: 'doc:1', relation: 'viewer', subject: 'user:a', expiresAt: 'soon' }] })
      .catch((e: unknown) => e);
    expect(badExpiry).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'updates[0].expiresAt' });
    expect(server.calls).toHaveLength(0);
  });
});
