// Core client behaviour over a scripted in-memory transport: batching, consistency, deadlines, wire shapes.
import { describe, expect, it } from 'vitest';
import { GatehouseClient } from './client.js';
import { CancelledError, DeadlineExceededError, InvalidArgumentError } from './errors.js';
import type { StreamMethod, Transport, TransportCallOptions, UnaryMethod, WireMessage } from './transport.js';

interface Sent {
  readonly method: UnaryMethod | StreamMethod;
  readonly request: WireMessage;
  readonly options: TransportCallOptions;
}

type Answer = (request: WireMessage, options: TransportCallOptions) => WireMessage | Promise<WireMessage>;

/** A transport that records every request and answers from a per-method script. */
class ScriptedTransport implements Transport {
  readonly sent: Sent[] = [];
  constructor(private readonly answers: Partial<Record<UnaryMethod, Answer>>) {}
  async unary(
    method: UnaryMethod,
    request: WireMessage,
    options: TransportCallOptions,
  ): Promise<WireMessage> {
    this.sent.push({ method, request, options });
    const answer = this.answers[method];
    if (answer === undefined) throw new Error(`unscripted ${method}`);
    return answer(request, options);
  }
  // biome-ignore lint/correctness/useYield: no stream is scripted in these tests
  async *serverStream(method: StreamMethod): AsyncIterable<WireMessage> {
    throw new Error(`unscripted ${method}`);
  }
  async close(): Promise<void> {}
}

const hasPermission = { permissionship: 'PERMISSIONSHIP_HAS_PERMISSION', checkedAt: { token: 't' } };

function batchAnswer(request: WireMessage): WireMessage {
  const items = request.items as unknown[];
  return {
    results: items.map(() => ({ permissionship: 'PERMISSIONSHIP_HAS_PERMISSION' })),
    checkedAt: { token: 't' },
  };
}

describe('automatic batching', () => {
  it('sends a lone check as Check, not as a batch of one', async () => {
    const transport = new ScriptedTransport({ Check: () => hasPermission });
    const client = new GatehouseClient(transport);
    await client.check('doc:a#view@user:u');
    expect(transport.sent.map((s) => s.method)).toEqual(['Check']);
  });

  it('splits concurrent checks at maxBatchSize, preserving order across the chunks', async () => {
    const transport = new ScriptedTransport({ CheckBatch: batchAnswer });
    const client = new GatehouseClient(transport, { batching: { maxBatchSize: 4 } });
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.check(`doc:d${i}#view@user:u`)));
    const batches = transport.sent.map((s) =>
      (s.request.items as Array<{ resource: { objectId: string } }>).map((i) => i.resource.objectId),
    );
    expect(batches).toEqual([
      ['d0', 'd1', 'd2', 'd3'],
      ['d4', 'd5', 'd6', 'd7'],
      ['d8', 'd9'],
    ]);
  });

  it('never mixes checks of different consistency in one batch', async () => {
    const transport = new ScriptedTransport({ CheckBatch: batchAnswer });
    const client = new GatehouseClient(transport);
    await Promise.all([
      client.check('doc:a#view@user:u'),
      client.check('doc:b#view@user:u', { consistency: 'fully-consistent' }),
      client.check('doc:c#view@user:u'),
      client.check('doc:d#view@user:u', { consistency: 'fully-consistent' }),
    ]);
    expect(transport.sent.map((s) => s.request.consistency)).toEqual([
      { minimizeLatency: true },
      { fullyConsistent: true },
    ]);
  });

  it('sends one Check per call when batching is off', async () => {
    const transport = new ScriptedTransport({ Check: () => hasPermission });
    const client = new GatehouseClient(transport, { batching: false });
    await Promise.all([client.check('doc:a#view@user:u'), client.check('doc:b#view@user:u')]);
    expect(transport.sent.map((s) => s.method)).toEqual(['Check', 'Check']);
  });

  it('lets an impatient member of a batch time out while the others get their answers', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transport = new ScriptedTransport({
      CheckBatch: async (r) => {
        await gate;
        return batchAnswer(r);
      },
    });
    const client = new GatehouseClient(transport);
    const impatient = client.check('doc:a#view@user:u', { timeoutMs: 20 });
    const patient = client.check('doc:b#view@user:u', { timeoutMs: 60_000 });
    await expect(impatient).rejects.toBeInstanceOf(DeadlineExceededError);
    release();
    await expect(patient).resolves.toMatchObject({ allowed: true });
    expect(transport.sent).toHaveLength(1);
  });

  it('rejects an already-aborted check at once and sends it nowhere', async () => {
    const transport = new ScriptedTransport({ Check: () => hasPermission, CheckBatch: batchAnswer });
    const client = new GatehouseClient(transport);
    const controller = new AbortController();
    controller.abort();
    const results = await Promise.allSettled([
      client.check('doc:a#view@user:u', { signal: controller.signal }),
      client.check('doc:b#view@user:u'),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(CancelledError) });
    expect(results[1]).toMatchObject({ status: 'fulfilled' });
    expect(transport.sent.map((s) => [s.method, s.request.resource])).toEqual([
      ['Check', { objectType: 'doc', objectId: 'b' }],
    ]);
  });

  it('leaves a check aborted while queued out of the batch it would have joined', async () => {
    const transport = new ScriptedTransport({ CheckBatch: batchAnswer });
    const client = new GatehouseClient(transport);
    const controller = new AbortController();
    const results = Promise.allSettled([
      client.check('doc:a#view@user:u'),
      client.check('doc:b#view@user:u', { signal: controller.signal }),
      client.check('doc:c#view@user:u'),
    ]);
    controller.abort();
    const [a, b, c] = await results;
    expect([a?.status, b?.status, c?.status]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const items = (transport.sent[0]?.request.items ?? []) as Array<{ resource: { objectId: string } }>;
    const ids = items.map((i) => i.resource.objectId);
    expect(ids).toEqual(['a', 'c']);
  });
});

describe('cancellation', () => {
  it('hands a lone batched check its signal, so aborting cancels the RPC itself', async () => {
    const transport = new ScriptedTransport({ Check: () => hasPermission });
    const client = new GatehouseClient(transport);
    const controller = new AbortController();
    await client.check('doc:a#view@user:u', { signal: controller.signal });
    expect(transport.sent[0]?.options.signal).toBe(controller.signal);
  });
});

describe('consistency', () => {
  it('sends read-your-writes reads at least as fresh as the newest write token', async () => {
    let revision = 0;
    const written = (): WireMessage => ({ writtenAt: { token: `w${++revision}` } });
    const transport = new ScriptedTransport({ Check: () => hasPermission, WriteRelationships: written });
    const client = new GatehouseClient(transport, { consistency: 'read-your-writes', batching: false });
    await client.check('doc:a#view@user:u');
    await client.write({ touch: ['doc:a#viewer@user:u'] });
    await client.check('doc:a#view@user:u');
    await client.write({ delete: ['doc:a#viewer@user:u'] });
    await client.check('doc:a#view@user:u');
    await client.check('doc:a#view@user:u', { consistency: 'minimize-latency' });
    const checks = transport.sent.filter((s) => s.method === 'Check').map((s) => s.request.consistency);
    expect(checks).toEqual([
      { minimizeLatency: true },
      { atLeastAsFresh: { token: 'w1' } },
      { atLeastAsFresh: { token: 'w2' } },
      { minimizeLatency: true },
    ]);
  });

  it('reads later pages at least as fresh as the first page', async () => {
    const transport = new ScriptedTransport({
      ReadRelationships: (r) =>
        r.cursor === ''
          ? { relationships: [], nextCursor: 'p2', readAt: { token: 'r7' } }
          : { relationships: [], readAt: { token: 'r8' } },
    });
    const client = new GatehouseClient(transport);
    await client.read({ filter: { resourceType: 'doc' }, pageSize: 1 }).toArray();
    expect(transport.sent.map((s) => [s.request.cursor, s.request.consistency])).toEqual([
      ['', { minimizeLatency: true }],
      ['p2', { atLeastAsFresh: { token: 'r7' } }],
    ]);
  });
});

describe('requests', () => {
  it('builds a write with ordered updates and preconditions in wire form', async () => {
    const transport = new ScriptedTransport({ WriteRelationships: () => ({ writtenAt: { token: 'w' } }) });
    const client = new GatehouseClient(transport);
    await client.write({
      updates: [
        { operation: 'create', relationship: { resource: 'doc:a', relation: 'owner', subject: 'user:u' } },
      ],
      touch: ['doc:a#viewer@user:*'],
      preconditions: [
        { operation: 'must-not-match', filter: { resourceType: 'doc', resourceId: 'a', relation: 'owner' } },
      ],
    });
    expect(transport.sent[0]?.request).toEqual({
      updates: [
        {
          operation: 'OPERATION_CREATE',
          relationship: {
            resource: { objectType: 'doc', objectId: 'a' },
            relation: 'owner',
            subject: { object: { objectType: 'user', objectId: 'u' } },
          },
        },
        {
          operation: 'OPERATION_TOUCH',
          relationship: {
            resource: { objectType: 'doc', objectId: 'a' },
            relation: 'viewer',
            subject: { object: { objectType: 'user', objectId: '*' } },
          },
        },
      ],
      preconditions: [
        {
          operation: 'OPERATION_MUST_NOT_MATCH',
          filter: { resourceType: 'doc', optionalResourceId: 'a', optionalRelation: 'owner' },
        },
      ],
    });
  });

  it('rejects an empty write and a malformed batch item before sending anything', async () => {
    const transport = new ScriptedTransport({});
    const client = new GatehouseClient(transport);
    await expect(client.write({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'updates' });
    const err = await client.checkBatch(['doc:a#view@user:u', 'doc:b#view']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).toMatchObject({ field: 'items[1]' });
    expect(transport.sent).toEqual([]);
  });

  it('treats an answer without a permissionship as a broken server, not as a denial', async () => {
    const transport = new ScriptedTransport({ Check: () => ({}) });
    const client = new GatehouseClient(transport);
    await expect(client.check('doc:a#view@user:u')).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('refuses a requestId no header can carry unchanged, before sending', async () => {
    const transport = new ScriptedTransport({ Check: () => hasPermission });
    const client = new GatehouseClient(transport);
    for (const requestId of ['', ' padded ', 'line\nbreak', 'caf\u00e9']) {
      await expect(client.check('doc:a#view@user:u', { requestId })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'requestId',
      });
    }
    await client.check('doc:a#view@user:u', { requestId: 'req 42/a' });
    expect(transport.sent.map((s) => s.options.requestId)).toEqual(['req 42/a']);
  });

  it('rejects a CheckBatch answer with fewer results than items as a broken server', async () => {
    const transport = new ScriptedTransport({ CheckBatch: () => ({ results: [{}] }) });
    const client = new GatehouseClient(transport);
    await expect(client.checkBatch(['doc:a#view@user:u', 'doc:b#view@user:u'])).rejects.toMatchObject({
      code: 'INTERNAL',
    });
  });

  it('fails a call whose timeoutMs has already run out without sending it, and never waits unbounded', async () => {
    const transport = new ScriptedTransport({
      Check: () => hasPermission,
      ReadSchema: () => ({ schemaJson: '{}' }),
      WriteRelationships: () => ({}),
    });
    const client = new GatehouseClient(transport);
    for (const timeoutMs of [0, -5]) {
      await expect(client.check('doc:a#view@user:u', { timeoutMs })).rejects.toBeInstanceOf(
        DeadlineExceededError,
      );
      await expect(client.readSchema({ timeoutMs })).rejects.toBeInstanceOf(DeadlineExceededError);
      await expect(client.write({ touch: ['doc:a#viewer@user:u'] }, { timeoutMs })).rejects.toBeInstanceOf(
        DeadlineExceededError,
      );
    }
    expect(transport.sent).toEqual([]);
    await client.check('doc:a#view@user:u', { timeoutMs: Number.POSITIVE_INFINITY });
    expect(transport.sent[0]?.options.deadline).toBeUndefined();
    await expect(client.check('doc:a#view@user:u', { timeoutMs: Number.NaN })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'timeoutMs',
    });
    expect(() => new GatehouseClient(transport, { defaultTimeoutMs: -1 })).toThrow(/defaultTimeoutMs/);
  });

  it('applies the client default deadline to every call', async () => {
    const transport = new ScriptedTransport({ ReadSchema: () => ({ schemaJson: '{}' }) });
    const client = new GatehouseClient(transport, { defaultTimeoutMs: 1234 });
    const before = Date.now();
    await client.readSchema();
    const after = Date.now();
    const deadline = transport.sent[0]?.options.deadline ?? 0;
    // Bounded by the clock read on both sides of the call, however long the call took.
    expect(deadline).toBeGreaterThanOrEqual(before + 1234);
    expect(deadline).toBeLessThanOrEqual(after + 1234);
  });
});
