// Property: any sequence of writes, filtered deletes and object deletions leaves MemoryStore in
// the same state, at the same revision, as a trivially correct model over a Set of strings, and
// every reported ChangeSet replays the previous state into the next one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRelationship, parseRelationship } from '../../server/src/model/relationship.js';
import type { DeletionConsequence } from '../../server/src/schema/schema.js';
import { deleteObject } from '../../server/src/service/object-deletion.js';
import type {
  ChangeSet,
  Precondition,
  RelationshipFilter,
  RelationshipUpdate,
  UpdateOperation,
} from '../../server/src/store/index.js';
import { collectSnapshot, MemoryStore } from '../../server/src/store/index.js';

const SUBJECTS = ['user:x', 'user:y', 'user:*', 'group:g', 'group:g#member', 'group:h#member'];
const RESOURCES: Array<[string, string[]]> = [
  ['doc:a', ['viewer', 'owner']],
  ['doc:b', ['viewer', 'owner']],
  ['group:g', ['member']],
  ['group:h', ['member']],
];
const UNIVERSE = RESOURCES.flatMap(([res, rels]) =>
  rels.flatMap((r) => SUBJECTS.map((s) => `${res}#${r}@${s}`)),
);
const CONSEQUENCES: DeletionConsequence[] = [
  { resourceType: 'doc', relation: 'viewer', subject: { type: 'user', id: '*' } },
];

type Op =
  | { kind: 'write'; updates: Array<[UpdateOperation, string]>; preconditions: Precondition[] }
  | { kind: 'deleteByFilter'; filter: RelationshipFilter; limit: number | undefined }
  | { kind: 'deleteObject'; object: string };

const filterArb: fc.Arbitrary<RelationshipFilter> = fc.record(
  {
    resourceType: fc.constantFrom('doc', 'group'),
    resourceId: fc.constantFrom('a', 'g'),
    relation: fc.constantFrom('viewer', 'member'),
    subjectType: fc.constantFrom('user', 'group'),
    subjectId: fc.constantFrom('x', 'g', '*'),
    subjectRelation: fc.constantFrom('', 'member'),
  },
  { requiredKeys: [] },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      updates: fc.array(
        fc.tuple(fc.constantFrom<UpdateOperation>('create', 'touch', 'delete'), fc.constantFrom(...UNIVERSE)),
        {
          maxLength: 5,
        },
      ),
      preconditions: fc.array(
        fc.record({
          operation: fc.constantFrom('must_match' as const, 'must_not_match' as const),
          filter: filterArb,
        }),
        { maxLength: 1 },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteByFilter' as const),
      filter: filterArb.map((f) => ({ ...f, resourceType: f.resourceType ?? 'doc' })),
      limit: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('deleteObject' as const),
      object: fc.constantFrom('user:x', 'group:g', 'group:h', 'doc:a'),
    }),
  },
);

/** The obviously correct reference: a Set of canonical strings, every query a full scan. */
class ModelStore {
  set = new Set<string>();
  revision = 0;

  static matches(filter: RelationshipFilter, s: string): boolean {
    const r = parseRelationship(s);
    const checks: Array<[string | undefined, string]> = [
      [filter.resourceType, r.resource.type],
      [filter.resourceId, r.resource.id],
      [filter.relation, r.relation],
      [filter.subjectType, r.subject.type],
      [filter.subjectId, r.subject.id],
      [filter.subjectRelation, r.subject.relation ?? ''],
    ];
    return checks.every(([want, have]) => want === undefined || want === have);
  }

  apply(op: Op): 'ok' | 'error' {
    if (op.kind === 'write') {
      for (const p of op.preconditions) {
        const any = [...this.set].some((s) => ModelStore.matches(p.filter, s));
        if (any !== (p.operation === 'must_match')) return 'error';
      }
      const next = new Set(this.set);
      for (const [operation, s] of op.updates) {
        if (operation === 'create' && next.has(s)) return 'error';
        if (operation === 'delete') next.delete(s);
        else next.add(s);
      }
      this.set = next;
    } else if (op.kind === 'deleteByFilter') {
      const doomed = [...this.set].filter((s) => ModelStore.matches(op.filter, s)).sort();
      for (const s of doomed.slice(0, op.limit ?? doomed.length)) this.set.delete(s);
    } else {
      const mentions = (s: string): boolean => {
        const r = parseRelationship(s);
        return (
          `${r.resource.type}:${r.resource.id}` === op.object ||
          `${r.subject.type}:${r.subject.id}` === op.object
        );
      };
      const doomed = [...this.set].filter(mentions);
      for (const s of doomed) this.set.delete(s);
      for (const s of doomed) {
        const r = parseRelationship(s);
        const resource = `${r.resource.type}:${r.resource.id}`;
        if (resource === op.object) continue;
        for (const c of CONSEQUENCES) {
          if (c.resourceType !== r.resource.type || c.relation !== r.relation) continue;
          const prefix = `${resource}#${r.relation}@`;
          if ([...this.set].some((t) => t.startsWith(prefix))) continue;
          this.set.add(`${prefix}${c.subject.type}:${c.subject.id}`);
        }
      }
    }
    this.revision++;
    return 'ok';
  }
}

async function run(store: MemoryStore, op: Op): Promise<{ outcome: 'ok' | 'error'; change?: ChangeSet }> {
  try {
    if (op.kind === 'write') {
      const updates: RelationshipUpdate[] = op.updates.map(([operation, s]) => ({
        operation,
        relationship: parseRelationship(s),
      }));
      return { outcome: 'ok', change: await store.write(updates, op.preconditions) };
    }
    if (op.kind === 'deleteByFilter')
      return { outcome: 'ok', change: await store.deleteByFilter(op.filter, [], op.limit) };
    const [type = '', id = ''] = op.object.split(':');
    return { outcome: 'ok', change: await deleteObject(store, { type, id }, CONSEQUENCES) };
  } catch {
    return { outcome: 'error' };
  }
}

async function contents(store: MemoryStore): Promise<string[]> {
  return (await collectSnapshot(await store.snapshot())).map(formatRelationship).sort();
}

describe('MemoryStore against a Set model', () => {
  it('agrees on state, revision and outcome after every operation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 25 }), async (ops) => {
        const store = new MemoryStore();
        const model = new ModelStore();
        let before = new Set<string>();
        for (const op of ops) {
          const expected = model.apply(op);
          const { outcome, change } = await run(store, op);
          expect(outcome).toBe(expected);
          expect(await store.revision()).toBe(model.revision);
          const after = await contents(store);
          expect(after).toEqual([...model.set].sort());
          if (change !== undefined) {
            const replayed = new Set(before);
            for (const c of change.changes) {
              const key = formatRelationship(c.relationship);
              if (c.operation === 'insert') replayed.add(key);
              else replayed.delete(key);
            }
            expect([...replayed].sort()).toEqual(after);
          }
          before = new Set(after);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('pages through any filter to exactly the relationships a full scan of the model finds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...UNIVERSE), { maxLength: 40 }),
        filterArb,
        fc.integer({ min: 1, max: 7 }),
        async (stored, filter, limit) => {
          const store = MemoryStore.withRelationships(stored.map((s) => parseRelationship(s)));
          const paged: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await store.read(filter, { limit, cursor });
            expect(page.relationships.length).toBeLessThanOrEqual(limit);
            paged.push(...page.relationships.map(formatRelationship));
            cursor = page.nextCursor;
          } while (cursor !== undefined);
          expect(paged).toEqual(stored.filter((s) => ModelStore.matches(filter, s)).sort());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads by subject after a bulk load and any writes as the model does, whenever that index is first used', async () => {
    // Reads naming a subject and no resource id go through the subject index, built on first use.
    const bySubjectArb: fc.Arbitrary<RelationshipFilter> = fc.record(
      {
        resourceType: fc.constantFrom('doc', 'group'),
        relation: fc.constantFrom('viewer', 'member'),
        subjectType: fc.constantFrom('user', 'group'),
        subjectId: fc.constantFrom('x', 'y', 'g', 'h', '*'),
        subjectRelation: fc.constantFrom('', 'member'),
      },
      { requiredKeys: ['subjectType', 'subjectId'] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...UNIVERSE), { maxLength: 30 }),
        fc.array(fc.tuple(opArb, fc.option(bySubjectArb, { nil: undefined })), { maxLength: 10 }),
        async (stored, steps) => {
          const store = MemoryStore.withRelationships(stored.map((s) => parseRelationship(s)));
          const model = new ModelStore();
          model.set = new Set(stored);
          for (const [op, filter] of steps) {
            expect((await run(store, op)).outcome).toBe(model.apply(op));
            if (filter === undefined) continue;
            const page = await store.read(filter, { limit: 1000 });
            expect(page.relationships.map(formatRelationship)).toEqual(
              [...model.set].filter((s) => ModelStore.matches(filter, s)).sort(),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
