// MemoryStore: runs the shared Store contract, then checks what only the embedded store
// promises — synchronous delivery to `subscribe` at commit, re-entrant writers, startup
// loading, options, its identity and how close() ends watches.
import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, UnavailableError } from '../../server/src/errors.js';
import {
  formatRelationship,
  formatRelationshipWithAttributes,
  parseRelationship,
} from '../../server/src/model/relationship.js';
import { deleteObject } from '../../server/src/service/object-deletion.js';
import type { ChangeSet } from '../../server/src/store/index.js';
import { collectSnapshot, MemoryStore } from '../../server/src/store/index.js';
import { runStoreContract } from './store-contract.js';

runStoreContract(
  'MemoryStore',
  async (options) => new MemoryStore({ ...options, onListenerError: () => {} }),
);

const touch = (s: string) => ({ operation: 'touch' as const, relationship: parseRelationship(s) });

describe('MemoryStore', () => {
  it('deletes an object that is the subject of more relationships than an argument list can carry', async () => {
    // 150k subject-set links to one group: spreading them into one call overflowed the stack.
    const links = 150_000;
    const store = MemoryStore.withRelationships(
      (function* () {
        for (let i = 0; i < links; i++) yield parseRelationship(`doc:d${i}#viewer@group:g#member`);
        yield parseRelationship('group:g#member@user:x');
      })(),
    );
    const change = await deleteObject(store, { type: 'group', id: 'g' }, []);
    expect(change.changes).toHaveLength(links + 1);
    expect(store.size).toBe(0);
  });

  it('loads startup relationships as revision 1, collapsing duplicates, replayable by watch(0)', async () => {
    const store = MemoryStore.withRelationships(
      ['doc:a#viewer@user:x', 'doc:a#viewer@user:x', 'group:g#member@user:y'].map((s) =>
        parseRelationship(s),
      ),
    );
    expect(await store.revision()).toBe(1);
    expect(store.size).toBe(2);
    const seen: ChangeSet[] = [];
    store.subscribe(0, (c) => seen.push(c));
    expect(seen.map((c) => c.changes.length)).toEqual([2]);
  });

  it('replays the startup load as loaded, in key order, after its rows are removed, reused or retouched', async () => {
    const loaded = [
      'doc:a#viewer@user:x',
      'doc:b#viewer@user:y[cond]',
      'doc:c#viewer@user:z',
      'doc:d#viewer@user:w',
    ];
    const store = MemoryStore.withRelationships(loaded.map((s) => parseRelationship(s)));
    await store.write([{ operation: 'delete', relationship: parseRelationship('doc:c#viewer@user:z') }]);
    // Reuses the freed row: must not show up in revision 1.
    await store.write([touch('doc:0#viewer@user:new')]);
    await store.write([touch('doc:b#viewer@user:y')]); // drops the condition: delete + insert
    await store.deleteByFilter({ resourceType: 'doc', resourceId: 'a' });
    const seen: string[][] = [];
    store.subscribe(0, (c) =>
      seen.push(c.changes.map((x) => `${x.operation} ${formatRelationshipWithAttributes(x.relationship)}`)),
    );
    expect(seen).toEqual([
      loaded.map((s) => `insert ${s}`),
      ['delete doc:c#viewer@user:z'],
      ['insert doc:0#viewer@user:new'],
      ['delete doc:b#viewer@user:y[cond]', 'insert doc:b#viewer@user:y'],
      ['delete doc:a#viewer@user:x'],
    ]);
  });

  it('keeps the last of duplicate startup relationships, and never replays a row its duplicate freed', async () => {
    const store = MemoryStore.withRelationships(
      ['doc:a#viewer@user:x', 'doc:b#viewer@user:y', 'doc:a#viewer@user:x[c]'].map((s) =>
        parseRelationship(s),
      ),
    );
    expect(store.size).toBe(2);
    await store.write([touch('doc:z#viewer@user:new')]); // may take the dropped duplicate's row
    const seen: string[][] = [];
    store.subscribe(0, (c) =>
      seen.push(c.changes.map((x) => formatRelationshipWithAttributes(x.relationship))),
    );
    expect(seen).toEqual([['doc:a#viewer@user:x[c]', 'doc:b#viewer@user:y'], ['doc:z#viewer@user:new']]);
  });

  it('forgets the startup load once it leaves the changelog window', async () => {
    const store = MemoryStore.withRelationships([parseRelationship('doc:a#viewer@user:x')], {
      changelogRetention: 2,
    });
    await store.write([{ operation: 'delete', relationship: parseRelationship('doc:a#viewer@user:x') }]);
    await store.write([touch('doc:b#viewer@user:y')]);
    expect(() => store.subscribe(0, () => undefined)).toThrow(/only retains revisions after 1/);
    const seen: number[] = [];
    store.subscribe(1, (c) => seen.push(c.revision));
    expect(seen).toEqual([2, 3]);
  });

  it('calls listeners synchronously at commit, before the write settles', async () => {
    const store = new MemoryStore();
    const seen: number[] = [];
    store.subscribe(0, (c) => seen.push(c.revision));
    const pending = store.write([touch('doc:a#viewer@user:x')]);
    expect(seen).toEqual([1]);
    await pending;
  });

  it('keeps every watcher in revision order when a listener writes while being called', async () => {
    const store = new MemoryStore();
    const first: number[] = [];
    const second: number[] = [];
    store.subscribe(0, (c) => {
      first.push(c.revision);
      if (c.revision === 1) void store.write([touch('doc:b#viewer@user:x')]);
    });
    store.subscribe(0, (c) => second.push(c.revision));
    await store.write([touch('doc:a#viewer@user:x')]);
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([1, 2]);
  });

  it('delivers each revision once to a watcher subscribed from inside another listener', async () => {
    const store = new MemoryStore();
    const late: number[] = [];
    store.subscribe(0, (c) => {
      if (c.revision === 2) store.subscribe(0, (d) => late.push(d.revision));
    });
    await store.write([touch('doc:a#viewer@user:x')]);
    await store.write([touch('doc:b#viewer@user:x')]);
    await store.write([touch('doc:c#viewer@user:x')]);
    expect(late).toEqual([1, 2, 3]);
  });

  it('does not repeat a queued revision to a watcher that already got it by replay', async () => {
    const store = new MemoryStore();
    const late: number[] = [];
    store.subscribe(0, (c) => {
      if (c.revision !== 1) return;
      void store.write([touch('doc:b#viewer@user:x')]); // queued behind revision 1
      store.subscribe(0, (d) => late.push(d.revision)); // replays 1 and 2 at once
    });
    await store.write([touch('doc:a#viewer@user:x')]);
    expect(late).toEqual([1, 2]);
  });

  it('delivers writes made by a listener during its own replay after the replay, in order', async () => {
    const store = new MemoryStore();
    await store.write([]);
    await store.write([]);
    const seen: number[] = [];
    store.subscribe(0, (c) => {
      seen.push(c.revision);
      if (c.revision === 1) void store.write([]);
    });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('reports a throwing listener to onListenerError with the revision', async () => {
    const onListenerError = vi.fn();
    const store = new MemoryStore({ onListenerError });
    const boom = new Error('boom');
    store.subscribe(0, () => {
      throw boom;
    });
    const cs = await store.write([touch('doc:a#viewer@user:x')]);
    expect(cs.revision).toBe(1);
    expect(onListenerError).toHaveBeenCalledWith(boom, 1);
  });

  it('keeps only the configured number of revisions for replay', async () => {
    const store = new MemoryStore({ changelogRetention: 2000 });
    for (let i = 0; i < 5000; i++) await store.write([]);
    expect(() => store.subscribe(2999, () => undefined)).toThrow(/only retains revisions after 3000/);
    const seen: number[] = [];
    store.subscribe(3000, (c) => seen.push(c.revision));
    expect(seen).toHaveLength(2000);
    expect(seen[0]).toBe(3001);
  });

  it('with retention 0 can still watch from the latest revision', async () => {
    const store = new MemoryStore({ changelogRetention: 0 });
    await store.write([]);
    expect(() => store.subscribe(0, () => undefined)).toThrow(/only retains revisions after 1/);
    const seen: number[] = [];
    store.subscribe(1, (c) => seen.push(c.revision));
    await store.write([]);
    expect(seen).toEqual([2]);
  });

  it('rejects invalid options naming the option', () => {
    expect(() => new MemoryStore({ changelogRetention: -1 })).toThrow(/changelogRetention=-1/);
    expect(() => new MemoryStore({ maxReadLimit: 0 })).toThrow(InvalidArgumentError);
  });

  it('honours maxReadLimit', async () => {
    const store = new MemoryStore({ maxReadLimit: 3 });
    await expect(store.read({}, { limit: 4 })).rejects.toThrow(/from 1 to 3/);
    await expect(store.read({}, { limit: 3 })).resolves.toMatchObject({ relationships: [] });
  });

  it('rejects an unknown update or precondition operation before changing anything', async () => {
    const store = new MemoryStore();
    const bogus = { operation: 'upsert', relationship: parseRelationship('doc:a#viewer@user:x') } as never;
    await expect(store.write([touch('doc:b#viewer@user:x'), bogus])).rejects.toThrow(/'upsert'/);
    await expect(
      store.write([touch('doc:b#viewer@user:x')], [{ operation: 'must_exist', filter: {} } as never]),
    ).rejects.toThrow(/'must_exist'/);
    expect(await store.revision()).toBe(0);
  });

  it('hands out frozen copies that do not alias the caller objects', async () => {
    const store = new MemoryStore();
    const mine = {
      resource: { type: 'doc', id: 'a' },
      relation: 'viewer',
      subject: { type: 'user', id: 'x' },
    };
    await store.write([{ operation: 'touch', relationship: mine }]);
    mine.resource.id = 'mutated';
    const [stored] = await collectSnapshot(await store.snapshot());
    expect(stored && formatRelationship(stored)).toBe('doc:a#viewer@user:x');
    expect(Object.isFrozen(stored)).toBe(true);
  });

  it('fails every call with Unavailable after close, and close is idempotent', async () => {
    const store = new MemoryStore();
    const seen: number[] = [];
    store.subscribe(0, (c) => seen.push(c.revision));
    await store.close();
    await store.close();
    await expect(store.write([])).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.read({}, { limit: 1 })).rejects.toBeInstanceOf(UnavailableError);
    expect(() => store.subscribe(0, () => undefined)).toThrow(UnavailableError);
    expect(() => store.watch(0)).toThrow(UnavailableError);
    expect(seen).toEqual([]);
  });

  it('reads by resource and subject stay correct at scale (many blocks in the ordered index)', async () => {
    const relationships = [];
    for (let d = 0; d < 3000; d++) {
      relationships.push(parseRelationship(`doc:d${d}#viewer@user:u${d % 50}`));
      relationships.push(parseRelationship(`doc:d${d}#owner@user:u${(d * 7) % 50}`));
    }
    const store = MemoryStore.withRelationships(relationships);
    const byResource = await store.read({ resourceType: 'doc', resourceId: 'd1234' }, { limit: 10 });
    expect(byResource.relationships.map(formatRelationship)).toEqual([
      'doc:d1234#owner@user:u38',
      'doc:d1234#viewer@user:u34',
    ]);
    let count = 0;
    let cursor: string | undefined;
    do {
      const page = await store.read({ subjectType: 'user', subjectId: 'u7' }, { limit: 17, cursor });
      for (const r of page.relationships) expect(r.subject.id).toBe('u7');
      count += page.relationships.length;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(count).toBe(120);
    const cs = await deleteObject(store, { type: 'user', id: 'u7' }, []);
    expect(cs.changes).toHaveLength(120);
    expect(store.size).toBe(6000 - 120);
  });

  it('has a fresh random epoch per store, or the one it is given; bad names and epochs are refused', async () => {
    const a = await new MemoryStore().identity();
    const b = await new MemoryStore().identity();
    expect(a.epoch).not.toBe(b.epoch);
    expect(await new MemoryStore({ storeName: 'crm', epoch: 'e1' }).identity()).toEqual({
      name: 'crm',
      epoch: 'e1',
    });
    expect(() => new MemoryStore({ epoch: 'UPPER' })).toThrow(/invalid store epoch 'UPPER'/);
    expect(() => new MemoryStore({ storeName: 'a b' })).toThrow(/invalid store name 'a b'/);
  });

  it('refuses a malformed expectRevision before changing anything', async () => {
    const store = new MemoryStore();
    for (const expectRevision of [-1, 1.5, Number.NaN]) {
      await expect(store.write([touch('doc:a#viewer@user:x')], [], { expectRevision })).rejects.toMatchObject(
        {
          code: 'INVALID_ARGUMENT',
          field: 'expectRevision',
        },
      );
    }
    expect(await store.revision()).toBe(0);
  });

  it('stamps commits with its clock and keeps the stamp for replay', async () => {
    const store = new MemoryStore({ clock: () => 1234 });
    const cs = await store.write([touch('doc:a#viewer@user:x')]);
    expect(cs.committedAt).toBe(1234);
    for await (const replayed of store.watch(0)) {
      expect(replayed).toEqual(cs);
      break;
    }
  });

  it('fails a waiting watch with Unavailable when closed', async () => {
    const store = new MemoryStore();
    const iterator = store.watch(0)[Symbol.asyncIterator]();
    const waiting = iterator.next();
    await store.close();
    await expect(waiting).rejects.toBeInstanceOf(UnavailableError);
  });

  it('tells a watch consumer that falls further behind than its buffer that the changelog moved on', async () => {
    const store = new MemoryStore({ watchBuffer: 3 });
    const iterator = store.watch(0)[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) await store.write([]);
    const seen: number[] = [];
    await expect(
      (async () => {
        for (;;) {
          const step = await iterator.next();
          if (step.done) return;
          seen.push(step.value.revision);
        }
      })(),
    ).rejects.toMatchObject({ name: 'ChangelogTruncatedError' });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('splits its snapshot into chunks of the configured size', async () => {
    const store = MemoryStore.withRelationships(
      Array.from({ length: 7 }, (_, i) => parseRelationship(`doc:d${i}#viewer@user:x`)),
      { snapshotChunkSize: 3 },
    );
    const sizes: number[] = [];
    for await (const chunk of (await store.snapshot()).chunks()) sizes.push(chunk.length);
    expect(sizes).toEqual([3, 3, 1]);
  });
});
