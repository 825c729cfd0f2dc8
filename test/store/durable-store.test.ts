// DurableStore and its write-ahead log: the Store contract over a data dir, record framing
// (torn and corrupt tails), group commit, fsync failure, restart, compaction and seeding.
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { ChangelogTruncatedError, InvalidArgumentError, UnavailableError } from '../../server/src/errors.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import {
  formatRelationship,
  formatRelationshipWithAttributes,
  parseRelationship,
} from '../../server/src/model/relationship.js';
import { createStore } from '../../server/src/store/create-store.js';
import { DurableStore } from '../../server/src/store/durable/durable-store.js';
import { decodeRecords, encodeRecord } from '../../server/src/store/durable/record-file.js';
import { type LogFile, WriteAheadLog } from '../../server/src/store/durable/write-ahead-log.js';
import { collectSnapshot } from '../../server/src/store/index.js';
import { crmSchema } from '../engine/fixtures.js';
import { PATIENT_MS, waitUntil } from '../support/wait-until.js';
import { runStoreContract } from './store-contract.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-durable-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

runStoreContract('DurableStore', async (options) => {
  const { store } = await DurableStore.open({
    dataDir: await tempDir(),
    compactEvery: 2,
    ...(options?.storeName === undefined ? {} : { storeName: options.storeName }),
    memory: { ...options, onListenerError: () => {} },
  });
  return store;
});

const touch = (s: string) => ({ operation: 'touch' as const, relationship: parseRelationship(s) });
const seedOf = (...rels: string[]) =>
  (async function* () {
    yield rels.map((s) => parseRelationship(s));
  })();

async function contents(store: DurableStore): Promise<string[]> {
  return (await collectSnapshot(await store.snapshot())).map(formatRelationship).sort();
}

describe('record framing', () => {
  const records = [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')];
  const file = Buffer.concat(records.map(encodeRecord));

  it('reads back every whole record', () => {
    const decoded = decodeRecords(file);
    expect(decoded.payloads.map(String)).toEqual(['one', 'two', 'three']);
    expect(decoded).toMatchObject({ validBytes: file.length, torn: false });
  });

  it('stops at a torn tail and says where the whole records end', () => {
    const decoded = decodeRecords(file.subarray(0, file.length - 2));
    expect(decoded.payloads.map(String)).toEqual(['one', 'two']);
    expect(decoded.torn).toBe(true);
    expect(decoded.validBytes).toBe(encodeRecord(records[0]!).length + encodeRecord(records[1]!).length);
  });

  it('stops at a record whose checksum does not match', () => {
    const bad = Buffer.from(file);
    const at = encodeRecord(records[0]!).length + 9;
    bad[at] = (bad[at] ?? 0) ^ 0xff; // a payload byte of the second record
    const decoded = decodeRecords(bad);
    expect(decoded.payloads.map(String)).toEqual(['one']);
    expect(decoded.torn).toBe(true);
  });
});

/** A log file whose fsync waits until the test releases it. */
function gatedFile(): { file: LogFile; batches: Buffer[][]; release(): void; failNext(): void } {
  const batches: Buffer[][] = [];
  let gate: (() => void) | undefined;
  let fail = false;
  return {
    batches,
    file: {
      append: async (buffers) => {
        batches.push([...buffers]);
      },
      sync: () =>
        new Promise<void>((resolve, reject) => {
          gate = () => (fail ? reject(new Error('EIO: disk gone')) : resolve());
        }),
      close: async () => {},
    },
    release: () => gate?.(),
    failNext: () => {
      fail = true;
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  await waitUntil('the write-ahead log to get there', condition, PATIENT_MS, 2);
}

describe('WriteAheadLog', () => {
  it('acknowledges only after fsync, and records arriving during an fsync share the next one', async () => {
    const gated = gatedFile();
    const log = new WriteAheadLog(gated.file, 0);
    const acked: number[] = [];
    const wait = (r: number) => log.durable(r).then(() => acked.push(r));
    log.append(1, Buffer.from('r1'));
    const first = wait(1);
    await until(() => gated.batches.length === 1);
    for (const r of [2, 3, 4]) log.append(r, Buffer.from(`r${r}`));
    const rest = [2, 3, 4].map(wait);
    await new Promise((r) => setTimeout(r, 10));
    expect(acked).toEqual([]); // nothing is acknowledged while its fsync is pending
    gated.release();
    await first;
    expect(acked).toEqual([1]);
    await until(() => gated.batches.length === 2);
    gated.release();
    await Promise.all(rest);
    expect(acked).toEqual([1, 2, 3, 4]);
    expect(log.syncs).toBe(2);
    expect(gated.batches.map((b) => b.length)).toEqual([1, 3]);
  });

  it('fails every waiting and later write with UnavailableError when fsync fails', async () => {
    const gated = gatedFile();
    const log = new WriteAheadLog(gated.file, 0);
    log.append(1, Buffer.from('r1'));
    const pending = log.durable(1);
    await until(() => gated.batches.length === 1);
    gated.failNext();
    gated.release();
    await expect(pending).rejects.toBeInstanceOf(UnavailableError);
    await expect(pending).rejects.toThrow(/refused until the server restarts/);
    await expect(log.durable(2)).rejects.toBeInstanceOf(UnavailableError);
    expect(log.failed).toBeInstanceOf(UnavailableError);
  });
});

describe('DurableStore', () => {
  it('keeps every acknowledged write, the revision and the epoch across a reopen', async () => {
    const dir = await tempDir();
    const first = await DurableStore.open({ dataDir: dir }, seedOf('doc:a#viewer@user:seed'));
    expect(first.seeded).toBe(true);
    const writes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => first.store.write([touch(`doc:d${i}#viewer@user:u${i}`)])),
    );
    expect(writes.map((w) => w.revision).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    expect(first.store.syncs).toBeLessThanOrEqual(20);
    const { epoch } = await first.store.identity();
    const before = await contents(first.store);
    await first.store.close();

    const again = await DurableStore.open({ dataDir: dir }, seedOf('doc:zzz#viewer@user:ignored'));
    expect(again.seeded).toBe(false);
    expect(await again.store.revision()).toBe(21);
    expect((await again.store.identity()).epoch).toBe(epoch);
    expect(await contents(again.store)).toEqual(before);
    expect(before).toHaveLength(21);
    // Writes carry on from the recovered revision.
    expect((await again.store.write([touch('doc:next#viewer@user:n')])).revision).toBe(22);
    await again.store.close();
  });

  it('shares its numbering with the graph built from it, at the durable revision, after a reopen too', async () => {
    const dir = await tempDir();
    const first = await DurableStore.open({ dataDir: dir }, seedOf('doc:a#owner@user:ann'));
    await first.store.write([touch('doc:b#owner@user:bob')]);
    await first.store.close();
    const { store } = await DurableStore.open({ dataDir: dir });
    await store.write([touch('doc:c#viewer@group:eng#member'), touch('group:eng#member@user:cy')]);
    const graph = GraphIndex.fromNumbered(crmSchema, store.objectIds, (v) => store.forEachNumbered(v));
    expect(graph.revision).toBe(await store.revision());
    expect(graph.revision).toBe(3);
    expect(graph.relationshipCount).toBe(4);
    expect(graph.interner('user')).toBe(store.objectIds.interner('user'));
    const engine = createEngine(crmSchema, graph);
    const can = (doc: string, user: string) =>
      engine.check({
        resource: { type: 'doc', id: doc },
        permission: 'view',
        subject: { type: 'user', id: user },
      });
    expect([can('a', 'ann'), can('b', 'bob'), can('c', 'cy'), can('c', 'ann')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    await store.close();
  });

  it('drops a torn tail record on start-up (it was never acknowledged) and carries on after it', async () => {
    const dir = await tempDir();
    const { store } = await DurableStore.open({ dataDir: dir });
    await store.write([touch('doc:a#viewer@user:x')]);
    await store.write([touch('doc:b#viewer@user:y')]);
    await store.close();
    const log = join(dir, (await readdir(dir)).find((n) => n.endsWith('.wal'))!);
    const good = (await stat(log)).size;
    await appendFile(
      log,
      encodeRecord(Buffer.from('{"r":3,"c":[["i","doc:c#viewer@user:z"]]}')).subarray(0, 20),
    );

    const reopened = await DurableStore.open({ dataDir: dir });
    expect(await reopened.store.revision()).toBe(2);
    expect(await contents(reopened.store)).toEqual(['doc:a#viewer@user:x', 'doc:b#viewer@user:y']);
    expect((await stat(log)).size).toBe(good);
    await reopened.store.write([touch('doc:c#viewer@user:w')]);
    await reopened.store.close();
    const third = await DurableStore.open({ dataDir: dir });
    expect(await third.store.revision()).toBe(3);
    expect(await contents(third.store)).toContain('doc:c#viewer@user:w');
    await third.store.close();
  });

  it('stops at a corrupt last record, keeping the records before it', async () => {
    const dir = await tempDir();
    const { store } = await DurableStore.open({ dataDir: dir });
    await store.write([touch('doc:a#viewer@user:x')]);
    await store.write([touch('doc:b#viewer@user:y')]);
    await store.close();
    const log = join(dir, (await readdir(dir)).find((n) => n.endsWith('.wal'))!);
    const bytes = await readFile(log);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0xff;
    await writeFile(log, bytes);
    const reopened = await DurableStore.open({ dataDir: dir });
    expect(await reopened.store.revision()).toBe(1);
    expect(await contents(reopened.store)).toEqual(['doc:a#viewer@user:x']);
    await reopened.store.close();
  });

  it('compacts into a snapshot and a new log, and recovers from them', async () => {
    const dir = await tempDir();
    const { store } = await DurableStore.open({ dataDir: dir, compactEvery: 3 });
    for (let i = 0; i < 25; i++) await store.write([touch(`doc:d${i}#viewer@user:u`)]);
    await store.close();
    const logs = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
    expect(logs.length).toBeLessThanOrEqual(2);
    const reopened = await DurableStore.open({ dataDir: dir, compactEvery: 3 });
    expect(await reopened.store.revision()).toBe(25);
    expect(await contents(reopened.store)).toHaveLength(25);
    // History before the restart's snapshot cannot be replayed; from now on it can.
    const failure = await (async () => {
      try {
        for await (const _ of reopened.store.watch(1)) return 'delivered';
      } catch (err) {
        return err;
      }
      return 'ended';
    })();
    expect(failure).toBeInstanceOf(ChangelogTruncatedError);
    await reopened.store.close();
  });

  it('refuses a directory whose identity file is missing but which holds data', async () => {
    const dir = await tempDir();
    const { store } = await DurableStore.open({ dataDir: dir });
    await store.write([touch('doc:a#viewer@user:x')]);
    await store.close();
    await rm(join(dir, 'identity.json'));
    await expect(DurableStore.open({ dataDir: dir })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('createStore with dataDir', () => {
  it('seeds only a new directory: a restart keeps the data and ignores the policy relationships', async () => {
    const dataDir = await tempDir();
    const settings = { redis: undefined, store: 'crm', redisWaitReplicas: 0, dataDir };
    const first = await createStore(settings, [[parseRelationship('doc:a#viewer@user:seed')]]);
    expect(first.seeded).toBe(true);
    expect((await first.store.identity()).name).toBe('crm');
    await first.store.write([touch('doc:b#viewer@user:written')]);
    await first.store.close();
    const second = await createStore(settings, [[parseRelationship('doc:c#viewer@user:new-seed')]]);
    expect(second.seeded).toBe(false);
    expect(await second.store.revision()).toBe(2);
    expect((await collectSnapshot(await second.store.snapshot())).map(formatRelationship).sort()).toEqual([
      'doc:a#viewer@user:seed',
      'doc:b#viewer@user:written',
    ]);
    await second.store.close();
  });
});

describe('relationship condition and expiry across restarts', () => {
  const CONDITIONAL = 'doc:a#viewer@user:x[ip_allowlist:{"cidrs":["10.0.0.0/8"]}]';
  const BOTH = 'doc:b#viewer@user:y[office_hours][expiration:2031-01-01T12:30:00.250Z]';
  const full = async (store: DurableStore): Promise<string[]> =>
    (await collectSnapshot(await store.snapshot())).map(formatRelationshipWithAttributes).sort();

  it('replays them from the log and loads them from the snapshot; a renewal survives too', async () => {
    const dataDir = await tempDir();
    // compactEvery 3: the third write compacts, so the reopen reads a snapshot and then a log.
    const open = async () => (await DurableStore.open({ dataDir, compactEvery: 3 })).store;
    let store = await open();
    await store.write([touch(CONDITIONAL)]);
    await store.write([touch(BOTH)]);
    await store.close();
    store = await open(); // from the log
    expect(await full(store)).toEqual([CONDITIONAL, BOTH].sort());
    const renewed = 'doc:b#viewer@user:y[expiration:2040-01-01T00:00:00.000Z]';
    await store.write([touch(renewed)]);
    await store.write([touch('doc:c#viewer@user:z[c:{"k":[1,{"deep":null}]}]')]);
    await store.write([touch('doc:d#viewer@user:z')]);
    await store.close();
    store = await open(); // from a snapshot, and any log after it
    expect(await full(store)).toEqual(
      [CONDITIONAL, renewed, 'doc:c#viewer@user:z[c:{"k":[1,{"deep":null}]}]', 'doc:d#viewer@user:z'].sort(),
    );
    await store.close();
  });
});
