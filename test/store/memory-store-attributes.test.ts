// MemoryStore keeps a relationship's condition and expiry (rare, held beside its rows) through
// write, read, watch, snapshot and the startup load; a touch of the same identity replaces them.
import { describe, expect, it } from 'vitest';
import type { Relationship } from '../../server/src/model/relationship.js';
import { formatRelationshipWithAttributes, parseRelationship } from '../../server/src/model/relationship.js';
import type { ChangeSet, RelationshipUpdate } from '../../server/src/store/index.js';
import { collectSnapshot, MemoryStore } from '../../server/src/store/index.js';

const touch = (s: string): RelationshipUpdate => ({ operation: 'touch', relationship: parseRelationship(s) });
const del = (s: string): RelationshipUpdate => ({ operation: 'delete', relationship: parseRelationship(s) });
const text = (rs: readonly Relationship[]): string[] => rs.map(formatRelationshipWithAttributes);

const CONDITIONAL = 'doc:a#viewer@user:x[ip_allowed:{"cidr":"10.0.0.0/8"}]';
const EXPIRING = 'doc:b#viewer@user:y[expiration:2026-12-31T00:00:00.000Z]';
const BOTH = 'doc:c#viewer@user:z[on_weekdays][expiration:2027-01-01T00:00:00.000Z]';

async function readAll(store: MemoryStore): Promise<string[]> {
  return text((await store.read({}, { limit: 100 })).relationships);
}

describe('MemoryStore relationship attributes', () => {
  it('returns a written condition and expiry from read, snapshot and watch', async () => {
    const store = new MemoryStore();
    const seen: ChangeSet[] = [];
    store.subscribe(0, (c) => seen.push(c));
    await store.write([touch(CONDITIONAL), touch(EXPIRING), touch(BOTH), touch('doc:d#viewer@user:w')]);
    const expected = [CONDITIONAL, EXPIRING, BOTH, 'doc:d#viewer@user:w'];
    expect(await readAll(store)).toEqual(expected);
    expect(text(await collectSnapshot(await store.snapshot()))).toEqual(expected);
    expect(text(seen[0]!.changes.map((c) => c.relationship))).toEqual(expected);
    // A late watcher gets them from the retained (packed) changelog.
    const late: ChangeSet[] = [];
    store.subscribe(0, (c) => late.push(c));
    expect(text(late[0]!.changes.map((c) => c.relationship))).toEqual(expected);
  });

  it('replaces the attributes on a touch of the same identity, reported as delete then insert', async () => {
    const store = new MemoryStore();
    await store.write([touch(CONDITIONAL)]);
    const change = await store.write([touch('doc:a#viewer@user:x[expiration:2030-01-01T00:00:00.000Z]')]);
    expect(
      change.changes.map((c) => `${c.operation} ${formatRelationshipWithAttributes(c.relationship)}`),
    ).toEqual([`delete ${CONDITIONAL}`, 'insert doc:a#viewer@user:x[expiration:2030-01-01T00:00:00.000Z]']);
    expect(await readAll(store)).toEqual(['doc:a#viewer@user:x[expiration:2030-01-01T00:00:00.000Z]']);
    // Touching it plain drops them; touching it plain again changes nothing.
    expect((await store.write([touch('doc:a#viewer@user:x')])).changes).toHaveLength(2);
    expect((await store.write([touch('doc:a#viewer@user:x')])).changes).toHaveLength(0);
    expect(await readAll(store)).toEqual(['doc:a#viewer@user:x']);
  });

  it('treats the same condition values in another key order as unchanged', async () => {
    const store = new MemoryStore();
    await store.write([touch('doc:a#viewer@user:x[c:{"a":1,"b":[2,{"c":3,"d":4}]}]')]);
    const change = await store.write([touch('doc:a#viewer@user:x[c:{"b":[2,{"d":4,"c":3}],"a":1}]')]);
    expect(change.changes).toHaveLength(0);
  });

  it('reports a delete with the attributes the relationship had, and forgets them', async () => {
    const store = new MemoryStore();
    await store.write([touch(BOTH)]);
    const change = await store.write([del('doc:c#viewer@user:z')]);
    expect(text(change.changes.map((c) => c.relationship))).toEqual([BOTH]);
    await store.write([touch('doc:c#viewer@user:z')]);
    expect(await readAll(store)).toEqual(['doc:c#viewer@user:z']);
  });

  it('loads attributes at startup, the last duplicate winning as a touch would', async () => {
    const store = MemoryStore.withRelationships(
      [CONDITIONAL, 'doc:a#viewer@user:x[other]', EXPIRING].map((s) => parseRelationship(s)),
    );
    expect(await readAll(store)).toEqual(['doc:a#viewer@user:x[other]', EXPIRING]);
    const replay: ChangeSet[] = [];
    store.subscribe(0, (c) => replay.push(c));
    expect(text(replay[0]!.changes.map((c) => c.relationship))).toEqual([
      'doc:a#viewer@user:x[other]',
      EXPIRING,
    ]);
  });

  it('hands out frozen relationships whose condition values cannot be changed', async () => {
    const store = new MemoryStore();
    const input = parseRelationship('doc:a#viewer@user:x[c:{"list":[1,2]}]');
    await store.write([{ operation: 'touch', relationship: input }]);
    const [stored] = (await store.read({}, { limit: 1 })).relationships;
    expect(Object.isFrozen(stored!.condition!.context!.list)).toBe(true);
    // The caller's own object stays theirs: changing it changes nothing stored.
    (input.condition!.context as Record<string, unknown>).list = [9];
    expect(await readAll(store)).toEqual(['doc:a#viewer@user:x[c:{"list":[1,2]}]']);
  });
});
