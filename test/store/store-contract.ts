// The Store contract suite: the behaviour every Store implementation must share (identity,
// revisions, write semantics, expectRevision, atomicity, deletes, object deletion planned by the
// service over the store, paging, chunked snapshots, async watch with typed failures). Each
// implementation's test file calls runStoreContract with a factory for fresh, empty stores.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AlreadyExistsError,
  ChangelogTruncatedError,
  FailedPreconditionError,
  type GatehouseError,
  InvalidArgumentError,
} from '../../server/src/errors.js';
import type { ObjectRef, Relationship } from '../../server/src/model/relationship.js';
import {
  formatRelationship,
  formatRelationshipWithAttributes,
  parseRelationship,
} from '../../server/src/model/relationship.js';
import type { DeletionConsequence } from '../../server/src/schema/schema.js';
import { deleteObject as deleteObjectVia } from '../../server/src/service/object-deletion.js';
import type {
  ChangeSet,
  RelationshipChange,
  RelationshipFilter,
  RelationshipUpdate,
  Store,
} from '../../server/src/store/store.js';
import { STORE_EPOCH_PATTERN } from '../../server/src/store/store.js';
import { PATIENCE } from '../support/wait-until.js';

/** Options a factory must honour so the suite can exercise retention limits and names. */
export interface StoreContractOptions {
  readonly changelogRetention?: number;
  readonly storeName?: string;
}

export type StoreFactory = (options?: StoreContractOptions) => Promise<Store>;

const rel = (s: string): Relationship => parseRelationship(s);
const touch = (s: string): RelationshipUpdate => ({ operation: 'touch', relationship: rel(s) });
const create = (s: string): RelationshipUpdate => ({ operation: 'create', relationship: rel(s) });
const del = (s: string): RelationshipUpdate => ({ operation: 'delete', relationship: rel(s) });
const show = (c: RelationshipChange): string =>
  `${c.operation === 'insert' ? '+' : '-'}${formatRelationship(c.relationship)}`;

/** The team-CRM consequence: a contact that loses its last viewer becomes visible to everyone. */
const VISIBLE_TO_EVERYONE: DeletionConsequence = {
  resourceType: 'contact',
  relation: 'viewer',
  subject: { type: 'user', id: '*' },
};

/** The service's object deletion (plan at R, write with expectRevision R) over `store`. */
function deleteObject(
  store: Store,
  object: ObjectRef,
  consequences: readonly DeletionConsequence[],
): Promise<ChangeSet> {
  return deleteObjectVia(store, object, consequences);
}

/** Every relationship of a snapshot, and how many chunks carried them. */
async function snapshotContents(store: Store): Promise<{ revision: number; rels: string[]; chunks: number }> {
  const snap = await store.snapshot();
  const rels: string[] = [];
  let chunks = 0;
  for await (const chunk of snap.chunks()) {
    chunks++;
    expect(chunk.length).toBeGreaterThan(0);
    rels.push(...chunk.map(formatRelationship));
  }
  return { revision: snap.revision, rels: rels.sort(), chunks };
}

async function contents(store: Store): Promise<string[]> {
  return (await snapshotContents(store)).rels;
}

/** Every relationship matching `filter`, formatted, paging `limit` at a time. */
export async function readAll(store: Store, filter: RelationshipFilter, limit = 1000): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.read(filter, { limit, cursor });
    out.push(...page.relationships.map(formatRelationship));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<GatehouseError> {
  try {
    await promise;
  } catch (err) {
    return err as GatehouseError;
  }
  throw new Error('expected the call to reject, but it resolved');
}

interface Recording {
  readonly received: ChangeSet[];
  /** Abort the watch; the iteration then ends normally. */
  stop(): void;
  /** Settles when the iteration ends: undefined when it ended normally, else its failure. */
  readonly ended: Promise<unknown>;
}

/** Watch from `after` in a for-await loop, recording every ChangeSet. */
function record(store: Store, after: number): Recording {
  const received: ChangeSet[] = [];
  const abort = new AbortController();
  const ended = (async (): Promise<unknown> => {
    try {
      for await (const c of store.watch(after, abort.signal)) received.push(c);
      return undefined;
    } catch (err) {
      return err;
    }
  })();
  return { received, stop: () => abort.abort(), ended };
}

/** How a watch fails: synchronously at the call, or as the iteration's first failure. */
async function watchFailure(start: () => AsyncIterable<ChangeSet>): Promise<unknown> {
  try {
    for await (const _ of start())
      return new Error('expected the watch to fail, but it delivered a ChangeSet');
  } catch (err) {
    return err;
  }
  return new Error('expected the watch to fail, but it ended normally');
}

async function untilReceived(received: readonly ChangeSet[], revision: number): Promise<void> {
  await vi.waitFor(() => expect(received.at(-1)?.revision).toBeGreaterThanOrEqual(revision), PATIENCE);
}

export function runStoreContract(name: string, makeStore: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    const open: Store[] = [];
    const fresh = async (options?: StoreContractOptions): Promise<Store> => {
      const store = await makeStore(options);
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    describe('revisions', () => {
      it('starts empty at revision 0', async () => {
        const store = await fresh();
        expect(await store.revision()).toBe(0);
        expect(await snapshotContents(store)).toEqual({ revision: 0, rels: [], chunks: 0 });
      });

      it('commits exactly one revision per mutating call, even when nothing changes', async () => {
        const store = await fresh();
        const first = await store.write([touch('doc:a#viewer@user:x'), touch('doc:b#viewer@user:x')]);
        expect(first.revision).toBe(1);
        const noop = await store.write([touch('doc:a#viewer@user:x')]);
        expect(noop).toMatchObject({ revision: 2, changes: [] });
        expect((await store.write([])).revision).toBe(3);
        expect((await store.deleteByFilter({ resourceType: 'nothing' })).revision).toBe(4);
        expect((await deleteObject(store, { type: 'user', id: 'nobody' }, [])).revision).toBe(5);
        expect(await store.revision()).toBe(5);
      });
    });

    describe('write', () => {
      it('create inserts and reports the insert; a second create fails naming the relationship', async () => {
        const store = await fresh();
        const cs = await store.write([create('doc:a#viewer@user:x')]);
        expect(cs.changes.map(show)).toEqual(['+doc:a#viewer@user:x']);
        const err = await rejection(store.write([create('doc:a#viewer@user:x')]));
        expect(err).toBeInstanceOf(AlreadyExistsError);
        expect(err.message).toContain("'doc:a#viewer@user:x'");
        expect(await store.revision()).toBe(1);
      });

      it('touch is idempotent and reports only real inserts', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#viewer@user:x')]);
        const cs = await store.write([touch('doc:a#viewer@user:x'), touch('doc:a#viewer@user:y')]);
        expect(cs.changes.map(show)).toEqual(['+doc:a#viewer@user:y']);
        expect(await contents(store)).toEqual(['doc:a#viewer@user:x', 'doc:a#viewer@user:y']);
      });

      it('delete is idempotent and reports only real deletes', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#viewer@user:x')]);
        const cs = await store.write([del('doc:a#viewer@user:x'), del('doc:a#viewer@user:nobody')]);
        expect(cs.changes.map(show)).toEqual(['-doc:a#viewer@user:x']);
        expect((await store.write([del('doc:a#viewer@user:x')])).changes).toEqual([]);
        expect(await contents(store)).toEqual([]);
      });

      it('applies several updates to one relationship in order', async () => {
        const store = await fresh();
        const cs = await store.write([
          create('doc:a#viewer@user:x'),
          del('doc:a#viewer@user:x'),
          create('doc:a#viewer@user:x'),
        ]);
        expect(cs.changes.map(show)).toEqual([
          '+doc:a#viewer@user:x',
          '-doc:a#viewer@user:x',
          '+doc:a#viewer@user:x',
        ]);
        expect(await contents(store)).toEqual(['doc:a#viewer@user:x']);
        await store.write([del('doc:a#viewer@user:x'), create('doc:a#viewer@user:x')]);
        const gone = await store.write([touch('doc:a#viewer@user:y'), del('doc:a#viewer@user:y')]);
        expect(gone.changes.map(show)).toEqual(['+doc:a#viewer@user:y', '-doc:a#viewer@user:y']);
        expect(await contents(store)).toEqual(['doc:a#viewer@user:x']);
      });

      it('keeps plain subjects, subject sets and wildcards distinct', async () => {
        const store = await fresh();
        await store.write([
          create('doc:a#viewer@group:g'),
          create('doc:a#viewer@group:g#member'),
          create('doc:a#viewer@user:*'),
        ]);
        expect(await contents(store)).toEqual([
          'doc:a#viewer@group:g',
          'doc:a#viewer@group:g#member',
          'doc:a#viewer@user:*',
        ]);
      });

      it('is atomic: a duplicate create late in the batch changes nothing and commits no revision', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#viewer@user:x')]);
        const seen = record(store, 1);
        const err = await rejection(
          store.write([
            touch('doc:b#viewer@user:x'),
            del('doc:a#viewer@user:x'),
            create('doc:c#viewer@user:x'),
            create('doc:c#viewer@user:x'),
          ]),
        );
        expect(err).toBeInstanceOf(AlreadyExistsError);
        expect(err.message).toContain('doc:c#viewer@user:x');
        expect(await store.revision()).toBe(1);
        expect(await contents(store)).toEqual(['doc:a#viewer@user:x']);
        await store.write([touch('doc:z#viewer@user:x')]);
        await untilReceived(seen.received, 2);
        expect(seen.received.map((c) => c.revision)).toEqual([2]);
        seen.stop();
      });
    });

    describe('preconditions', () => {
      it('must_match aborts the write when nothing matches, quoting the filter', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#owner@user:x')]);
        const err = await rejection(
          store.write(
            [touch('doc:a#viewer@user:y')],
            [
              {
                operation: 'must_match',
                filter: { resourceType: 'doc', resourceId: 'a', subjectId: 'nobody' },
              },
            ],
          ),
        );
        expect(err).toBeInstanceOf(FailedPreconditionError);
        expect(err.message).toContain('"nobody"');
        expect(err.message).toContain('must_match');
        expect(await store.revision()).toBe(1);
        expect(await contents(store)).toEqual(['doc:a#owner@user:x']);
      });

      it('must_not_match aborts the write when something matches, naming it', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#owner@user:x')]);
        const err = await rejection(
          store.write(
            [del('doc:a#owner@user:x')],
            [{ operation: 'must_not_match', filter: { resourceType: 'doc', relation: 'owner' } }],
          ),
        );
        expect(err).toBeInstanceOf(FailedPreconditionError);
        expect(err.message).toContain('doc:a#owner@user:x');
        expect(err.message).toContain('"owner"');
        expect(await contents(store)).toEqual(['doc:a#owner@user:x']);
        expect(await store.revision()).toBe(1);
      });

      it('are checked against the state before the write, and let it through when they hold', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#owner@user:x')]);
        const cs = await store.write(
          [create('doc:b#owner@user:x')],
          [
            { operation: 'must_match', filter: { resourceType: 'doc', resourceId: 'a' } },
            { operation: 'must_not_match', filter: { resourceType: 'doc', resourceId: 'b' } },
          ],
        );
        expect(cs.changes.map(show)).toEqual(['+doc:b#owner@user:x']);
      });

      it('guard deleteByFilter too', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#owner@user:x')]);
        const err = await rejection(
          store.deleteByFilter({ resourceType: 'doc' }, [
            { operation: 'must_match', filter: { resourceType: 'folder' } },
          ]),
        );
        expect(err).toBeInstanceOf(FailedPreconditionError);
        expect(await contents(store)).toEqual(['doc:a#owner@user:x']);
        expect(await store.revision()).toBe(1);
      });
    });

    describe('deleteByFilter', () => {
      it('refuses an empty filter or one without resourceType, changing nothing', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#viewer@user:x')]);
        for (const filter of [{}, { subjectType: 'user', subjectId: 'x' }]) {
          const err = await rejection(store.deleteByFilter(filter));
          expect(err).toBeInstanceOf(InvalidArgumentError);
          expect(err.message).toContain('resourceType');
        }
        expect(await store.revision()).toBe(1);
        expect(await contents(store)).toEqual(['doc:a#viewer@user:x']);
      });

      it('deletes exactly the matching relationships in one revision', async () => {
        const store = await fresh();
        await store.write([
          touch('doc:a#viewer@user:x'),
          touch('doc:a#viewer@group:g#member'),
          touch('doc:a#owner@user:x'),
          touch('doc:b#viewer@user:x'),
          touch('folder:a#viewer@user:x'),
        ]);
        const cs = await store.deleteByFilter({
          resourceType: 'doc',
          relation: 'viewer',
          subjectRelation: '',
        });
        expect(cs.revision).toBe(2);
        expect(cs.changes.map(show).sort()).toEqual(['-doc:a#viewer@user:x', '-doc:b#viewer@user:x']);
        expect(await contents(store)).toEqual([
          'doc:a#owner@user:x',
          'doc:a#viewer@group:g#member',
          'folder:a#viewer@user:x',
        ]);
      });

      it('deletes at most `limit` relationships and rejects a bad limit', async () => {
        const store = await fresh();
        await store.write(['a', 'b', 'c', 'd'].map((id) => touch(`doc:${id}#viewer@user:x`)));
        const cs = await store.deleteByFilter({ resourceType: 'doc' }, [], 3);
        expect(cs.changes).toHaveLength(3);
        expect(await contents(store)).toHaveLength(1);
        for (const limit of [0, -1, 1.5]) {
          expect(await rejection(store.deleteByFilter({ resourceType: 'doc' }, [], limit))).toBeInstanceOf(
            InvalidArgumentError,
          );
        }
        expect(await store.revision()).toBe(2);
      });
    });

    describe('object deletion (planned by the service at R, committed with expectRevision R)', () => {
      it('removes the object as resource and as subject, plain or subject set, in one revision', async () => {
        const store = await fresh();
        await store.write([
          touch('group:eng#member@user:ana'),
          touch('group:eng#member@group:ops#member'),
          touch('group:all#member@group:eng#member'),
          touch('group:all#member@group:eng'),
          touch('doc:a#viewer@group:eng#member'),
          touch('doc:a#viewer@user:*'),
          touch('doc:b#viewer@group:engineering#member'),
        ]);
        const cs = await deleteObject(store, { type: 'group', id: 'eng' }, []);
        expect(cs.revision).toBe(2);
        expect(cs.changes.map(show).sort()).toEqual([
          '-doc:a#viewer@group:eng#member',
          '-group:all#member@group:eng',
          '-group:all#member@group:eng#member',
          '-group:eng#member@group:ops#member',
          '-group:eng#member@user:ana',
        ]);
        expect(await contents(store)).toEqual([
          'doc:a#viewer@user:*',
          'doc:b#viewer@group:engineering#member',
        ]);
      });

      it('team CRM: a contact still visible to another group keeps that group and gains nothing', async () => {
        const store = await fresh();
        await store.write([
          touch('group:marketing#member@user:mike'),
          touch('group:sales#member@user:john'),
          touch('contact:prospect1#viewer@group:marketing#member'),
          touch('contact:prospect1#viewer@group:sales#member'),
        ]);
        const cs = await deleteObject(store, { type: 'group', id: 'marketing' }, [VISIBLE_TO_EVERYONE]);
        expect(cs.changes.every((c) => c.operation === 'delete')).toBe(true);
        expect(await contents(store)).toEqual([
          'contact:prospect1#viewer@group:sales#member',
          'group:sales#member@user:john',
        ]);
      });

      it('team CRM: a contact visible only to the deleted group becomes visible to everyone in the same revision', async () => {
        const store = await fresh();
        await store.write([
          touch('group:marketing#member@user:mike'),
          touch('contact:p#viewer@group:marketing#member'),
          touch('contact:p#owner@user:mike'),
          touch('contact:q#owner@user:mike'),
        ]);
        const seen = record(store, 1);
        const cs = await deleteObject(store, { type: 'group', id: 'marketing' }, [VISIBLE_TO_EVERYONE]);
        expect(cs.revision).toBe(2);
        const shown = cs.changes.map(show);
        expect(shown.at(-1)).toBe('+contact:p#viewer@user:*');
        expect(shown.slice(0, -1).sort()).toEqual([
          '-contact:p#viewer@group:marketing#member',
          '-group:marketing#member@user:mike',
        ]);
        // contact:q never had a viewer, so it lost nothing in this call and gains nothing.
        expect(await contents(store)).toEqual([
          'contact:p#owner@user:mike',
          'contact:p#viewer@user:*',
          'contact:q#owner@user:mike',
        ]);
        expect(await store.revision()).toBe(2);
        await untilReceived(seen.received, 2);
        expect(seen.received).toEqual([cs]);
        seen.stop();
      });

      it('applies consequences only to the declared resource type and relation', async () => {
        const store = await fresh();
        await store.write([
          touch('contact:p#owner@group:marketing'),
          touch('account:a#viewer@group:marketing#member'),
        ]);
        const cs = await deleteObject(store, { type: 'group', id: 'marketing' }, [VISIBLE_TO_EVERYONE]);
        expect(cs.changes.filter((c) => c.operation === 'insert')).toEqual([]);
        expect(await contents(store)).toEqual([]);
      });

      it('does not re-grant anything on the deleted object itself', async () => {
        const store = await fresh();
        await store.write([touch('contact:p#viewer@group:g#member')]);
        const cs = await deleteObject(store, { type: 'contact', id: 'p' }, [VISIBLE_TO_EVERYONE]);
        expect(cs.changes.map(show)).toEqual(['-contact:p#viewer@group:g#member']);
        expect(await contents(store)).toEqual([]);
      });
    });

    describe('read', () => {
      const seed = [
        'doc:a#owner@user:x',
        'doc:a#viewer@group:g#member',
        'doc:a#viewer@user:*',
        'doc:a#viewer@user:x',
        'doc:b#viewer@user:x',
        'doc:b#viewer@user:y',
        'folder:f#viewer@user:x',
        'group:g#member@user:x',
      ];
      const seeded = async (): Promise<Store> => {
        const store = await fresh();
        await store.write(seed.map(touch));
        return store;
      };

      it.each<[string, RelationshipFilter, string[]]>([
        ['everything', {}, seed],
        ['a resource type', { resourceType: 'doc' }, seed.slice(0, 6)],
        ['a resource', { resourceType: 'doc', resourceId: 'a' }, seed.slice(0, 4)],
        [
          'a resource and relation',
          { resourceType: 'doc', resourceId: 'a', relation: 'viewer' },
          seed.slice(1, 4),
        ],
        ['a relation across resources', { resourceType: 'doc', relation: 'viewer' }, seed.slice(1, 6)],
        [
          'a subject',
          { subjectType: 'user', subjectId: 'x' },
          [
            'doc:a#owner@user:x',
            'doc:a#viewer@user:x',
            'doc:b#viewer@user:x',
            'folder:f#viewer@user:x',
            'group:g#member@user:x',
          ],
        ],
        [
          'a subject on a resource type',
          { resourceType: 'doc', subjectType: 'user', subjectId: 'y' },
          ['doc:b#viewer@user:y'],
        ],
        ['the wildcard subject', { subjectType: 'user', subjectId: '*' }, ['doc:a#viewer@user:*']],
        [
          'a subject set',
          { subjectType: 'group', subjectRelation: 'member' },
          ['doc:a#viewer@group:g#member'],
        ],
        [
          'plain subjects only',
          { resourceType: 'doc', resourceId: 'a', subjectRelation: '' },
          ['doc:a#owner@user:x', 'doc:a#viewer@user:*', 'doc:a#viewer@user:x'],
        ],
        ['nothing when no match', { resourceType: 'doc', resourceId: 'zzz' }, []],
      ])('filters by %s', async (_label, filter, expected) => {
        const store = await seeded();
        const all = await readAll(store, filter);
        expect([...all].sort()).toEqual([...expected].sort());
        // Paging one at a time yields the same relationships in the same stable order.
        expect(await readAll(store, filter, 1)).toEqual(all);
      });

      it('pages with an opaque cursor, absent on the last page, reporting the revision', async () => {
        const store = await seeded();
        const first = await store.read({ resourceType: 'doc' }, { limit: 4 });
        expect(first.relationships).toHaveLength(4);
        expect(first.revision).toBe(1);
        expect(first.nextCursor).toEqual(expect.any(String));
        const second = await store.read({ resourceType: 'doc' }, { limit: 4, cursor: first.nextCursor });
        expect(second.relationships).toHaveLength(2);
        expect(second.nextCursor).toBeUndefined();
        const exact = await store.read({ resourceType: 'doc' }, { limit: 6 });
        expect(exact.nextCursor).toBeUndefined();
      });

      it('resumes after the last item even when writes land between pages', async () => {
        const store = await fresh();
        const ids = Array.from({ length: 20 }, (_, i) => `d${String(i).padStart(2, '0')}`);
        await store.write(ids.map((id) => touch(`doc:${id}#viewer@user:x`)));
        const first = await store.read({ resourceType: 'doc' }, { limit: 5 });
        const seenFirst = first.relationships.map((r) => r.resource.id);
        const last = seenFirst.at(-1) as string;
        const later = ids.filter((id) => id > last);
        const [gone, kept] = [later[0] as string, later.slice(1)];
        await store.write([
          del(`doc:${seenFirst[0]}#viewer@user:x`), // already read
          del(`doc:${last}#viewer@user:x`), // the cursor's own item
          del(`doc:${gone}#viewer@user:x`), // not read yet
          touch('doc:a00#viewer@user:x'), // sorts before the cursor
          touch('doc:zz#viewer@user:x'), // sorts after the cursor
        ]);
        const rest: string[] = [];
        let cursor = first.nextCursor;
        while (cursor !== undefined) {
          const page = await store.read({ resourceType: 'doc' }, { limit: 5, cursor });
          rest.push(...page.relationships.map((r) => r.resource.id));
          cursor = page.nextCursor;
        }
        expect(rest).toEqual([...kept, 'zz']);
      });

      it('rejects a limit outside 1..max and a mangled or foreign cursor', async () => {
        const store = await seeded();
        for (const limit of [0, -3, 2.5, Number.NaN, 1e9]) {
          const err = await rejection(store.read({}, { limit }));
          expect(err).toBeInstanceOf(InvalidArgumentError);
          expect(err.field).toBe('limit');
        }
        const bad = await rejection(store.read({}, { limit: 2, cursor: 'not-a-cursor' }));
        expect(bad).toBeInstanceOf(InvalidArgumentError);
        expect(bad.message).toContain('not-a-cursor');
        const page = await store.read({ resourceType: 'doc' }, { limit: 2 });
        const foreign = await rejection(
          store.read({ resourceType: 'folder' }, { limit: 2, cursor: page.nextCursor }),
        );
        expect(foreign).toBeInstanceOf(InvalidArgumentError);
        expect(foreign.field).toBe('cursor');
      });
    });

    describe('watch', () => {
      it('replays every retained ChangeSet after `after`, in order, then delivers new ones', async () => {
        const store = await fresh();
        const a = await store.write([touch('doc:a#viewer@user:x')]);
        const b = await store.write([touch('doc:b#viewer@user:x')]);
        const fromStart = record(store, 0);
        const fromOne = record(store, 1);
        const fromNow = record(store, 2);
        const c = await deleteObject(store, { type: 'user', id: 'x' }, []);
        await untilReceived(fromStart.received, 3);
        await untilReceived(fromOne.received, 3);
        await untilReceived(fromNow.received, 3);
        expect(fromStart.received).toEqual([a, b, c]);
        expect(fromOne.received).toEqual([b, c]);
        expect(fromNow.received).toEqual([c]);
        for (const w of [fromStart, fromOne, fromNow]) w.stop();
      });

      it('delivers each revision once, in order, across many writes', async () => {
        const store = await fresh();
        const w = record(store, 0);
        for (let i = 0; i < 30; i++) await store.write([touch(`doc:d${i}#viewer@user:x`)]);
        await untilReceived(w.received, 30);
        expect(w.received.map((c) => c.revision)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        w.stop();
      });

      it('stops delivering after unsubscribe, without affecting other watchers', async () => {
        const store = await fresh();
        const stopped = record(store, 0);
        const still = record(store, 0);
        await store.write([touch('doc:a#viewer@user:x')]);
        await untilReceived(stopped.received, 1);
        stopped.stop();
        stopped.stop(); // unsubscribing twice is harmless
        await store.write([touch('doc:b#viewer@user:x')]);
        await untilReceived(still.received, 2);
        expect(stopped.received.map((c) => c.revision)).toEqual([1]);
        still.stop();
      });

      it('survives a consumer that throws: the store and the other watchers carry on', async () => {
        const store = await fresh();
        let calls = 0;
        const faulty = (async (): Promise<unknown> => {
          try {
            for await (const _ of store.watch(0)) {
              calls++;
              throw new Error('consumer bug');
            }
          } catch (err) {
            return err;
          }
          return undefined;
        })();
        const healthy = record(store, 0);
        const cs = await store.write([touch('doc:a#viewer@user:x')]);
        await store.write([touch('doc:b#viewer@user:x')]);
        await untilReceived(healthy.received, 2);
        expect(cs.revision).toBe(1);
        expect(healthy.received.map((c) => c.revision)).toEqual([1, 2]);
        expect(((await faulty) as Error).message).toBe('consumer bug');
        expect(calls).toBe(1);
        expect(await contents(store)).toEqual(['doc:a#viewer@user:x', 'doc:b#viewer@user:x']);
        healthy.stop();
        expect(await healthy.ended).toBeUndefined();
      });

      it('fails with ChangelogTruncatedError for a revision older than the retained changelog', async () => {
        const store = await fresh({ changelogRetention: 3 });
        // A store may keep more than its retention for a while (RedisStore trims only behind the
        // images replicas start from, which are published in the background): write until
        // revision 2 is gone, within PATIENCE.
        let written = 0;
        const writeOne = async (): Promise<void> => {
          await store.write([touch(`doc:d${written++}#viewer@user:x`)]);
        };
        for (let i = 0; i < 6; i++) await writeOne();
        let err: unknown;
        await vi.waitFor(async () => {
          err = await watchFailure(() => store.watch(2));
          if (!(err instanceof ChangelogTruncatedError)) await writeOne();
          expect(err).toBeInstanceOf(ChangelogTruncatedError);
        }, PATIENCE);
        expect((err as GatehouseError).code).toBe('FAILED_PRECONDITION');
        const w = record(store, written - 3);
        await untilReceived(w.received, written);
        expect(w.received.map((c) => c.revision)).toEqual([written - 2, written - 1, written]);
        w.stop();
      });

      it('refuses a negative or future revision with InvalidArgument', async () => {
        const store = await fresh();
        await store.write([]);
        expect(await watchFailure(() => store.watch(-1))).toBeInstanceOf(InvalidArgumentError);
        expect(await watchFailure(() => store.watch(5))).toBeInstanceOf(InvalidArgumentError);
      });

      it('ends normally when its signal aborts, even while waiting, and from an already aborted signal', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#viewer@user:x')]);
        const w = record(store, 0);
        await untilReceived(w.received, 1);
        w.stop();
        expect(await w.ended).toBeUndefined();
        await store.write([touch('doc:b#viewer@user:x')]);
        expect(w.received.map((c) => c.revision)).toEqual([1]);
        const aborted = new AbortController();
        aborted.abort();
        const seen: ChangeSet[] = [];
        for await (const c of store.watch(0, aborted.signal)) seen.push(c);
        expect(seen).toEqual([]);
      });

      it('stamps each ChangeSet it delivers live with a plausible commit time', async () => {
        const store = await fresh();
        const w = record(store, 0);
        const before = Date.now();
        const cs = await store.write([touch('doc:a#viewer@user:x')]);
        await untilReceived(w.received, 1);
        const at = w.received[0]?.committedAt ?? cs.committedAt;
        expect(at).toEqual(expect.any(Number));
        // Generous bounds: a store clock within a minute of ours.
        expect(Math.abs((at as number) - before)).toBeLessThan(60_000);
        w.stop();
      });
    });

    describe('expectRevision', () => {
      it('commits when the store is still at the expected revision', async () => {
        const store = await fresh();
        const first = await store.write([touch('doc:a#viewer@user:x')]);
        const cs = await store.write([touch('doc:b#viewer@user:x')], [], { expectRevision: first.revision });
        expect(cs.revision).toBe(first.revision + 1);
        expect(cs.changes.map(show)).toEqual(['+doc:b#viewer@user:x']);
        expect((await store.write([], [], { expectRevision: 2 })).revision).toBe(3);
      });

      it('refuses, changing nothing, when the store moved on: FailedPrecondition saying so', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#viewer@user:x')]);
        await store.write([touch('doc:b#viewer@user:x')]);
        const err = await rejection(store.write([del('doc:a#viewer@user:x')], [], { expectRevision: 1 }));
        expect(err).toBeInstanceOf(FailedPreconditionError);
        expect(err.message).toMatch(/moved on/);
        expect(await store.revision()).toBe(2);
        expect(await contents(store)).toEqual(['doc:a#viewer@user:x', 'doc:b#viewer@user:x']);
        const stale = await rejection(store.write([], [], { expectRevision: 0 }));
        expect(stale).toBeInstanceOf(FailedPreconditionError);
      });

      it('lets object deletion re-plan when a write lands between its reads and its commit', async () => {
        const store = await fresh();
        await store.write([touch('contact:p#viewer@group:m#member'), touch('contact:p#viewer@user:ann')]);
        // A competing writer removes ann after the first plan was read: the re-plan must grant everyone.
        let raced = false;
        const racing: Store = {
          kind: store.kind,
          identity: () => store.identity(),
          revision: () => store.revision(),
          write: async (updates, preconditions, options) => {
            if (!raced) {
              raced = true;
              await store.write([del('contact:p#viewer@user:ann')]);
            }
            return store.write(updates, preconditions, options);
          },
          deleteByFilter: (filter, preconditions, limit) =>
            store.deleteByFilter(filter, preconditions, limit),
          read: (filter, page) => store.read(filter, page),
          snapshot: () => store.snapshot(),
          watch: (after, signal) => store.watch(after, signal),
          close: () => store.close(),
        };
        const cs = await deleteObject(racing, { type: 'group', id: 'm' }, [VISIBLE_TO_EVERYONE]);
        expect(cs.revision).toBe(3);
        expect(await contents(store)).toEqual(['contact:p#viewer@user:*']);
      });
    });

    describe('identity', () => {
      it('names the store and an epoch of the documented shape, the same on every call', async () => {
        const store = await fresh();
        const id = await store.identity();
        expect(id.name).toBe('default');
        expect(id.epoch).toMatch(STORE_EPOCH_PATTERN);
        await store.write([touch('doc:a#viewer@user:x')]);
        expect(await store.identity()).toEqual(id);
      });

      it('carries the configured store name', async () => {
        const store = await fresh({ storeName: 'tenant_7' });
        expect((await store.identity()).name).toBe('tenant_7');
      });
    });

    describe('relationship condition and expiry', () => {
      const CONDITIONAL = 'doc:a#viewer@user:x[ip_allowlist:{"cidrs":["10.0.0.0/8"],"n":1.5,"on":true}]';
      const EXPIRING = 'doc:b#viewer@user:y[expiration:2030-12-31T00:00:00.000Z]';
      const BOTH = 'doc:c#viewer@group:g#member[office_hours][expiration:2031-01-01T12:30:00.250Z]';
      const full = (rs: readonly Relationship[]): string[] => rs.map(formatRelationshipWithAttributes).sort();

      it('keeps them through write, read, snapshot and watch', async () => {
        const store = await fresh();
        const w = record(store, 0);
        await store.write([touch(CONDITIONAL), touch(EXPIRING), touch(BOTH), touch('doc:d#viewer@user:z')]);
        const expected = [CONDITIONAL, EXPIRING, BOTH, 'doc:d#viewer@user:z'].sort();
        expect(full((await store.read({}, { limit: 100 })).relationships)).toEqual(expected);
        const snap = await store.snapshot();
        const snapped: Relationship[] = [];
        for await (const chunk of snap.chunks()) snapped.push(...chunk);
        expect(full(snapped)).toEqual(expected);
        await untilReceived(w.received, 1);
        expect(full(w.received[0]!.changes.map((c) => c.relationship))).toEqual(expected);
        // A watcher that starts later replays them from the changelog.
        const late = record(store, 0);
        await untilReceived(late.received, 1);
        expect(full(late.received[0]!.changes.map((c) => c.relationship))).toEqual(expected);
        w.stop();
        late.stop();
      });

      it('a touch of the same identity replaces them, and its changes end with the new ones', async () => {
        const store = await fresh();
        await store.write([touch(CONDITIONAL)]);
        const renewed = 'doc:a#viewer@user:x[expiration:2032-01-01T00:00:00.000Z]';
        const change = await store.write([touch(renewed)]);
        const inserted = change.changes.filter((c) => c.operation === 'insert');
        expect(inserted.map((c) => formatRelationshipWithAttributes(c.relationship))).toEqual([renewed]);
        expect(full((await store.read({}, { limit: 10 })).relationships)).toEqual([renewed]);
        // Touched plain, it loses them.
        await store.write([touch('doc:a#viewer@user:x')]);
        expect(full((await store.read({}, { limit: 10 })).relationships)).toEqual(['doc:a#viewer@user:x']);
      });

      it('a delete names the identity alone and reports what was deleted', async () => {
        const store = await fresh();
        await store.write([touch(BOTH)]);
        const change = await store.write([del('doc:c#viewer@group:g#member')]);
        expect(change.changes.map((c) => c.operation)).toEqual(['delete']);
        expect(formatRelationship(change.changes[0]!.relationship)).toBe('doc:c#viewer@group:g#member');
        expect(await store.read({}, { limit: 10 })).toMatchObject({ relationships: [] });
      });
    });

    describe('snapshot', () => {
      it('delivers the whole set in chunks, again on every iteration, at the revision it names', async () => {
        const store = await fresh();
        const all = Array.from(
          { length: 2500 },
          (_, i) => `doc:d${String(i).padStart(4, '0')}#viewer@user:x`,
        );
        for (let i = 0; i < all.length; i += 500) await store.write(all.slice(i, i + 500).map(touch));
        const snap = await store.snapshot();
        expect(snap.revision).toBe(5);
        for (let round = 0; round < 2; round++) {
          const seen: string[] = [];
          for await (const chunk of snap.chunks()) {
            expect(chunk.length).toBeGreaterThan(0);
            seen.push(...chunk.map(formatRelationship));
          }
          expect(seen.sort()).toEqual(all);
        }
      });

      it('is not changed by writes made after it was taken (or tells the reader it cannot keep up)', async () => {
        const store = await fresh();
        await store.write([touch('doc:a#viewer@user:x'), touch('doc:b#viewer@user:x')]);
        const snap = await store.snapshot();
        await store.write([del('doc:a#viewer@user:x'), touch('doc:c#viewer@user:x')]);
        try {
          const seen: string[] = [];
          for await (const chunk of snap.chunks()) seen.push(...chunk.map(formatRelationship));
          expect(seen.sort()).toEqual(['doc:a#viewer@user:x', 'doc:b#viewer@user:x']);
        } catch (err) {
          expect(err).toBeInstanceOf(ChangelogTruncatedError);
        }
        expect(snap.revision).toBe(1);
      });
    });
  });
}
