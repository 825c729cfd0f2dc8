// Properties of planning a write on a copy and committing it by compare-and-set on version
// fields (server/src/store/write-versions.ts, docs/design/redis-changelog-store.md):
//  - soundness: if a write B was planned at revision R and another write A committed after R
//    changed none of the fields B read, B planned again after A has the same outcome (the same
//    changes, or the same error), so committing B's first plan is committing what the store
//    would have decided at B's commit;
//  - a plan committed with applyCommitted leaves the store as `write` would have;
//  - applyCommitted refuses, changing nothing, a change set that does not apply.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRelationship, type Relationship } from '../../server/src/model/relationship.js';
import type {
  Precondition,
  RelationshipFilter,
  RelationshipUpdate,
  UpdateOperation,
} from '../../server/src/store/index.js';
import { collectSnapshot, MemoryStore } from '../../server/src/store/index.js';
import {
  base36,
  fieldsChanged,
  fieldsRead,
  objectFieldsChanged,
  relationshipField,
  updateFields,
  type WritePlan,
} from '../../server/src/store/write-versions.js';

const SUBJECTS = ['user:x', 'user:y', 'user:*', 'group:g', 'group:g#member', 'group:h#member'];
const RESOURCES: Array<[string, string[]]> = [
  ['doc:a', ['viewer', 'owner']],
  ['doc:b', ['viewer']],
  ['folder:a', ['viewer']],
  ['group:g', ['member']],
  ['group:h', ['member']],
];
const UNIVERSE = RESOURCES.flatMap(([res, rels]) =>
  rels.flatMap((r) => SUBJECTS.map((s) => `${res}#${r}@${s}`)),
);

/** Relationships with and without an expiry, so a touch can change attributes. */
const relationshipArb: fc.Arbitrary<Relationship> = fc
  .tuple(fc.constantFrom(...UNIVERSE), fc.constantFrom(undefined, 4_102_444_800_000, 4_102_444_900_000))
  .map(([text, expiresAt]) => ({ ...parseRelationship(text), ...(expiresAt ? { expiresAt } : {}) }));

const filterArb: fc.Arbitrary<RelationshipFilter> = fc.record(
  {
    resourceType: fc.constantFrom('doc', 'folder', 'group'),
    resourceId: fc.constantFrom('a', 'g'),
    relation: fc.constantFrom('viewer', 'member'),
    subjectType: fc.constantFrom('user', 'group'),
    subjectId: fc.constantFrom('x', 'g', '*'),
    subjectRelation: fc.constantFrom('', 'member'),
  },
  { requiredKeys: [] },
);

const preconditionsArb: fc.Arbitrary<Precondition[]> = fc.array(
  fc.record({
    operation: fc.constantFrom('must_match' as const, 'must_not_match' as const),
    filter: filterArb,
  }),
  { maxLength: 2 },
);

type Op =
  | { kind: 'write'; updates: RelationshipUpdate[]; preconditions: Precondition[] }
  | { kind: 'deleteByFilter'; filter: RelationshipFilter; preconditions: Precondition[]; limit?: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      updates: fc.array(
        fc.record({
          operation: fc.constantFrom<UpdateOperation>('create', 'touch', 'delete'),
          relationship: relationshipArb,
        }),
        { minLength: 1, maxLength: 4 },
      ),
      preconditions: preconditionsArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        kind: fc.constant('deleteByFilter' as const),
        filter: filterArb.map((f) => ({ ...f, resourceType: f.resourceType ?? 'doc' })),
        preconditions: preconditionsArb,
        limit: fc.integer({ min: 1, max: 3 }),
      },
      { requiredKeys: ['kind', 'filter', 'preconditions'] },
    ),
  },
);

type Outcome = { plan: WritePlan } | { error: string };

function plan(store: MemoryStore, op: Op): Outcome {
  try {
    return {
      plan:
        op.kind === 'write'
          ? store.planWrite(op.updates, op.preconditions, {}, eachOnce(op.updates))
          : store.planDeleteByFilter(op.filter, op.preconditions, op.limit),
    };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** As RedisStore tells planWrite: the updates' relationship fields are as many as they are. */
function eachOnce(updates: readonly RelationshipUpdate[]): boolean {
  return updateFields(updates).size === updates.length;
}

async function storeWith(initial: readonly RelationshipUpdate[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.write(initial);
  return store;
}

async function contents(store: MemoryStore): Promise<Relationship[]> {
  return collectSnapshot(await store.snapshot());
}

const initialArb = fc
  .array(relationshipArb, { maxLength: 20 })
  .map((rs) => rs.map((relationship): RelationshipUpdate => ({ operation: 'touch', relationship })));

describe('planning on a copy, committing by version fields', () => {
  it('a write none of whose read fields another write changed plans the same after it', async () => {
    let disjoint = 0;
    await fc.assert(
      fc.asyncProperty(initialArb, opArb, opArb, async (initial, a, b) => {
        const store = await storeWith(initial);
        const before = plan(store, b);
        const first = plan(store, a);
        if (!('plan' in first) || !('plan' in before)) return;
        const changed = new Set(fieldsChanged(first.plan.changes));
        if (before.plan.reads.some((f) => changed.has(f))) return;
        disjoint++;
        store.applyCommitted({ revision: first.plan.revision + 1, changes: first.plan.changes });
        const after = plan(store, b);
        expect('plan' in after ? after.plan.changes : after).toEqual(before.plan.changes);
      }),
      { numRuns: 3000 },
    );
    // The property says something only if disjoint pairs came up often enough.
    expect(disjoint).toBeGreaterThan(300);
  });

  it('a failure none of whose read fields another write changed fails the same after it', async () => {
    let disjoint = 0;
    await fc.assert(
      fc.asyncProperty(initialArb, opArb, opArb, async (initial, a, b) => {
        const store = await storeWith(initial);
        const before = plan(store, b);
        const first = plan(store, a);
        if (!('plan' in first) || !('error' in before)) return;
        // A failed plan returns no read set: take the one its arguments name.
        const reads = fieldsRead(
          b.kind === 'write' ? b.updates : [],
          b.preconditions,
          b.kind === 'deleteByFilter' ? b.filter : undefined,
        );
        const changed = new Set(fieldsChanged(first.plan.changes));
        if (reads.some((f) => changed.has(f))) return;
        disjoint++;
        store.applyCommitted({ revision: first.plan.revision + 1, changes: first.plan.changes });
        expect(plan(store, b)).toEqual(before);
      }),
      { numRuns: 3000 },
    );
    expect(disjoint).toBeGreaterThan(100);
  });

  it("a write's own read fields and its changes' object fields cover every field its changes stamp", async () => {
    await fc.assert(
      fc.asyncProperty(initialArb, opArb, async (initial, op) => {
        if (op.kind !== 'write') return;
        const planned = plan(await storeWith(initial), op);
        if (!('plan' in planned)) return;
        // What RedisStore's COMMIT stamps for a write: the first updateFields(updates).length
        // fields it read, and objectFieldsChanged.
        const own = [...updateFields(op.updates)];
        expect(planned.plan.reads.slice(0, own.length)).toEqual(own);
        const cheap = new Set([...own, ...objectFieldsChanged(planned.plan.changes)]);
        for (const field of fieldsChanged(planned.plan.changes)) expect(cheap.has(field)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('a plan told no relationship comes twice plans as one that looks for repeats, when none does', async () => {
    let distinct = 0;
    await fc.assert(
      fc.asyncProperty(initialArb, opArb, async (initial, op) => {
        if (op.kind !== 'write' || !eachOnce(op.updates)) return;
        distinct++;
        const store = await storeWith(initial);
        const outcome = (once: boolean): Outcome => {
          try {
            return { plan: store.planWrite(op.updates, op.preconditions, {}, once) };
          } catch (err) {
            return { error: `${(err as Error).name}: ${(err as Error).message}` };
          }
        };
        const told = outcome(true);
        const looked = outcome(false);
        if ('plan' in told && 'plan' in looked) expect(told.plan.changes).toEqual(looked.plan.changes);
        else expect(told).toEqual(looked);
      }),
      { numRuns: 500 },
    );
    expect(distinct).toBeGreaterThan(100);
  });

  it('committing a plan with applyCommitted leaves the store as write does', async () => {
    await fc.assert(
      fc.asyncProperty(initialArb, fc.array(opArb, { maxLength: 6 }), async (initial, ops) => {
        const written = await storeWith(initial);
        const copy = await storeWith(initial);
        for (const op of ops) {
          const planned = plan(copy, op);
          let committed: string | undefined;
          try {
            const changeSet =
              op.kind === 'write'
                ? await written.write(op.updates, op.preconditions)
                : await written.deleteByFilter(op.filter, op.preconditions, op.limit);
            committed = JSON.stringify(changeSet.changes);
          } catch (err) {
            expect(planned).toEqual({ error: `${(err as Error).name}: ${(err as Error).message}` });
            continue;
          }
          if (!('plan' in planned))
            throw new Error(`planned ${JSON.stringify(planned)}, but write committed`);
          expect(JSON.stringify(planned.plan.changes)).toBe(committed);
          copy.applyCommitted({ revision: planned.plan.revision + 1, changes: planned.plan.changes });
        }
        expect(await copy.revision()).toBe(await written.revision());
        expect(await contents(copy)).toEqual(await contents(written));
      }),
      { numRuns: 500 },
    );
  });
});

describe('version fields', () => {
  const rel = (text: string): Relationship => parseRelationship(text);

  it('a write of one member of a group reads nothing the write of another member stamps', () => {
    const reads = fieldsRead([{ operation: 'touch', relationship: rel('group:g#member@user:a') }], []);
    const stamps = fieldsChanged([{ operation: 'insert', relationship: rel('group:g#member@user:b') }]);
    expect(reads.filter((f) => stamps.includes(f))).toEqual([]);
    // The same relationship, whatever its attributes, is one field; a filter naming it in full reads it.
    const again = fieldsChanged([
      {
        operation: 'insert',
        relationship: { ...rel('group:g#member@user:a'), expiresAt: 4_102_444_800_000 },
      },
    ]);
    expect(reads.every((f) => again.includes(f))).toBe(true);
    const filter = {
      resourceType: 'group',
      resourceId: 'g',
      relation: 'member',
      subjectType: 'user',
      subjectId: 'a',
      subjectRelation: '',
    };
    expect(fieldsRead([], [{ operation: 'must_not_match', filter }])).toEqual(reads);
    // A filter that leaves the subject relation open reads the whole resource object.
    expect(
      fieldsRead([], [{ operation: 'must_match', filter: { ...filter, subjectRelation: undefined } }]),
    ).toEqual(['r:group:g']);
  });

  it('names a relationship as every release has: replicas of two builds stamp one field for it', () => {
    // Fields written by the build before base36 replaced Number#toString(36) in the hash: a
    // rolling upgrade runs both, and a field named differently would hide a conflict.
    expect(relationshipField('document', 'd1', 'viewer', 'group', 'g7', 'member')).toBe('k:1sra6ck.d8uau5');
    expect(relationshipField('user', '', '', 'user', '*', undefined)).toBe('k:kau2b9.6f8ejm');
  });

  it('writes an unsigned 32-bit number in base 36 as Number#toString does', () => {
    for (const n of [0, 1, 35, 36, 1295, 1296, 2 ** 31, 2 ** 32 - 1]) expect(base36(n)).toBe(n.toString(36));
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), (n) => base36(n) === n.toString(36)),
      { numRuns: 2000 },
    );
  });
});

describe('applyCommitted', () => {
  const rel = (text: string): Relationship => parseRelationship(text);

  it('refuses a change set out of order, or one that does not apply, and changes nothing', async () => {
    const store = await storeWith([{ operation: 'touch', relationship: rel('doc:a#viewer@user:x') }]);
    const before = await contents(store);
    const refused = [
      { revision: 3, changes: [] },
      { revision: 2, changes: [{ operation: 'insert' as const, relationship: rel('doc:a#viewer@user:x') }] },
      { revision: 2, changes: [{ operation: 'delete' as const, relationship: rel('doc:a#viewer@user:y') }] },
      {
        revision: 2,
        changes: [
          { operation: 'insert' as const, relationship: rel('doc:b#viewer@user:x') },
          {
            operation: 'delete' as const,
            relationship: { ...rel('doc:a#viewer@user:x'), expiresAt: 4_102_444_800_000 },
          },
        ],
      },
    ];
    for (const changeSet of refused) {
      expect(() => store.applyCommitted(changeSet)).toThrow(/does not (follow|apply)/);
    }
    expect(await store.revision()).toBe(1);
    expect(await contents(store)).toEqual(before);
  });

  it('applies the next revision with its commit time and tells watchers', async () => {
    const store = await storeWith([]);
    const seen: number[] = [];
    const stop = store.subscribe(1, (c) => seen.push(c.committedAt ?? 0));
    const applied = store.applyCommitted({
      revision: 2,
      changes: [{ operation: 'insert', relationship: rel('doc:a#viewer@user:x') }],
      committedAt: 1234.5,
    });
    stop();
    expect(applied.revision).toBe(2);
    expect(seen).toEqual([1234.5]);
    expect((await store.read({}, { limit: 10 })).relationships).toEqual([rel('doc:a#viewer@user:x')]);
  });
});
