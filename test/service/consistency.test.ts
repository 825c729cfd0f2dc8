// Consistency requirements: at_least_as_fresh and fully_consistent wait for the local graph,
// bounded by the deadline; foreign or malformed tokens are rejected.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { decodeRevisionToken, encodeRevisionToken } from '../../server/src/service/revision-token.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { checkOf, ctx, fixturePolicySet } from './fixture.js';
import { LaggingStore } from './lagging-store.js';

let store: LaggingStore;
let service: GatehouseService;

beforeEach(async () => {
  const set = fixturePolicySet();
  store = new LaggingStore(MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)));
  service = await GatehouseService.create({ schema: set.schema, store, limits: DEFAULT_LIMITS });
});
afterEach(() => service.close());

const carolViewsPlan = checkOf('document:plan', 'view', 'user:carol');
const grantCarol = {
  operation: 'touch' as const,
  relationship: {
    resource: { type: 'document', id: 'plan' },
    relation: 'viewer',
    subject: { type: 'user', id: 'carol' },
  },
};

const ID = { name: 'default', epoch: 'e1' };
/** A token of this test's store at `revision`. */
const tokenAt = async (revision: number): Promise<string> =>
  encodeRevisionToken(revision, await store.identity());

describe('revision tokens', () => {
  it('round-trip every revision, store and epoch, and reject edits', () => {
    for (const r of [0, 1, 35, 36, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      expect(decodeRevisionToken(encodeRevisionToken(r, ID), 'f')).toEqual({
        store: 'default',
        epoch: 'e1',
        revision: r,
      });
    }
    const long = { name: 'x'.repeat(64), epoch: 'z'.repeat(16) };
    expect(decodeRevisionToken(encodeRevisionToken(Number.MAX_SAFE_INTEGER, long), 'f').store).toBe(
      long.name,
    );
    const t = encodeRevisionToken(41, ID);
    expect(t).toMatch(/^GH2\.default\.e1\.15\./);
    for (const tampered of [
      t.replace('.15.', '.16.'),
      t.replace('.e1.', '.e2.'),
      t.replace('default', 'defaulu'),
    ]) {
      expect(() => decodeRevisionToken(tampered, 'f')).toThrow(/invalid revision token/);
    }
    expect(() => decodeRevisionToken('x'.repeat(500), 'f')).toThrow(/\.\.\./);
  });

  it('refuse a token of the old format, which names no store or epoch, with FAILED_PRECONDITION', () => {
    expect(() => decodeRevisionToken('GH1.15.0k3q', 'f')).toThrow(
      expect.objectContaining({
        code: 'FAILED_PRECONDITION',
        message: expect.stringMatching(/older Gatehouse/),
      }),
    );
  });

  it('from another store or epoch get FAILED_PRECONDITION naming both, never a comparison by number', async () => {
    const mine = await store.identity();
    for (const other of [
      { name: 'default', epoch: 'otherepoch' },
      { name: 'tenant2', epoch: mine.epoch },
    ]) {
      const token = encodeRevisionToken(1, other); // revision 1 exists here too
      const answer = service.check(
        { ...carolViewsPlan, consistency: { kind: 'at_least_as_fresh', token } },
        ctx(),
      );
      await expect(answer).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION',
        field: 'consistency.atLeastAsFresh.token',
        message: expect.stringContaining(
          `issued by store '${other.name}' epoch ${other.epoch}; this is store '${mine.name}' epoch ${mine.epoch}`,
        ),
      });
      await expect(service.watch({ startToken: token }, ctx())).rejects.toMatchObject({
        code: 'FAILED_PRECONDITION',
      });
    }
  });

  it('are not shared by two servers with separate memory stores, even at the same revision', async () => {
    const set = fixturePolicySet();
    const other = await GatehouseService.create({
      schema: set.schema,
      store: MemoryStore.withRelationships(set.relationships.map((r) => r.relationship)),
      limits: DEFAULT_LIMITS,
    });
    const theirs = (await other.check(carolViewsPlan, ctx())).token;
    other.close();
    expect(service.revision).toBe(other.revision);
    await expect(
      service.check({ ...carolViewsPlan, consistency: { kind: 'at_least_as_fresh', token: theirs } }, ctx()),
    ).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  });
});

describe('at_least_as_fresh', () => {
  it('waits until the local graph reaches the token, then answers from it', async () => {
    store.held = true;
    const written = await store.write([grantCarol]);
    const token = await tokenAt(written.revision);
    // minimize_latency answers at once from the lagging graph...
    expect((await service.check(carolViewsPlan, ctx())).allowed).toBe(false);
    // ...at_least_as_fresh waits for the change to arrive.
    const pending = service.check(
      { ...carolViewsPlan, consistency: { kind: 'at_least_as_fresh', token } },
      ctx(),
    );
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    store.release();
    const answer = await pending;
    expect(answer.allowed).toBe(true);
    expect(answer.token).toBe(token);
  });

  it('fails with DEADLINE_EXCEEDED when the graph does not catch up in time', async () => {
    store.held = true;
    const written = await store.write([grantCarol]);
    const check = service.check(
      {
        ...carolViewsPlan,
        consistency: { kind: 'at_least_as_fresh', token: await tokenAt(written.revision) },
      },
      ctx({ ms: 30 }),
    );
    await expect(check).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });

  it('rejects a token newer than anything the store has committed', async () => {
    const check = service.check(
      { ...carolViewsPlan, consistency: { kind: 'at_least_as_fresh', token: await tokenAt(999) } },
      ctx(),
    );
    await expect(check).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'consistency.atLeastAsFresh.token',
    });
  });
});

describe('fully_consistent', () => {
  it('waits for the newest committed revision', async () => {
    store.held = true;
    await store.write([grantCarol]);
    const pending = service.check({ ...carolViewsPlan, consistency: { kind: 'fully_consistent' } }, ctx());
    setTimeout(() => store.release(), 5);
    expect((await pending).allowed).toBe(true);
  });
});

describe('writes read their own writes on this replica', () => {
  it('answers a write only after the local graph has applied it', async () => {
    store.held = true;
    const pending = service.writeRelationships({ updates: [grantCarol] }, ctx());
    setTimeout(() => store.release(), 5);
    await pending;
    expect((await service.check(carolViewsPlan, ctx())).allowed).toBe(true);
  });
});

describe('checkNow and checkBatchNow (the transports’ entry points)', () => {
  it('answer synchronously when the local graph already satisfies the requirement', async () => {
    const written = await store.write([grantCarol]);
    await service.check(carolViewsPlan, ctx()); // let the replica apply it
    await new Promise((r) => setImmediate(r));
    const token = await tokenAt(written.revision);
    for (const consistency of [undefined, { kind: 'at_least_as_fresh' as const, token }]) {
      const answer = service.checkNow({ ...carolViewsPlan, consistency }, ctx());
      expect(answer).not.toBeInstanceOf(Promise);
      expect(answer).toMatchObject({ allowed: true, token });
      const batch = service.checkBatchNow({ items: [carolViewsPlan], consistency }, ctx());
      expect(batch).not.toBeInstanceOf(Promise);
      expect(batch).toMatchObject({ results: [{ allowed: true }], token });
    }
  });

  it('return a promise that waits when the graph is behind, and answer from the caught-up graph', async () => {
    store.held = true;
    const written = await store.write([grantCarol]);
    const consistency = { kind: 'at_least_as_fresh' as const, token: await tokenAt(written.revision) };
    const single = service.checkNow({ ...carolViewsPlan, consistency }, ctx());
    const batch = service.checkBatchNow({ items: [carolViewsPlan], consistency }, ctx());
    expect(single).toBeInstanceOf(Promise);
    expect(batch).toBeInstanceOf(Promise);
    store.release();
    expect((await single).allowed).toBe(true);
    expect((await batch).results).toMatchObject([{ allowed: true }]);
  });

  it('throw invalid input at once, where check() rejects with the same error', async () => {
    const bad = checkOf('document:plan', 'viwe', 'user:carol');
    expect(() => service.checkNow(bad, ctx())).toThrow(expect.objectContaining({ field: 'permission' }));
    expect(() =>
      service.checkBatchNow({ items: [], consistency: { kind: 'at_least_as_fresh', token: 'x' } }, ctx()),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(service.check(bad, ctx())).rejects.toMatchObject({ field: 'permission' });
  });
});
