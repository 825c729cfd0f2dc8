// Tests for WritesOnTheWay: which writes on their way a plan waits for, built from the same field
// functions RedisStore uses (write-versions.ts), so a write waits exactly when Redis would refuse
// its commit for a write of its own instance still on the way.
import { describe, expect, it } from 'vitest';
import { parseRelationship } from '../../model/relationship.js';
import type { Precondition, RelationshipChange, RelationshipUpdate } from '../store.js';
import { fieldsChanged, fieldsRead, objectFieldsChanged, updateFields } from '../write-versions.js';
import { WritesOnTheWay } from './writes-on-the-way.js';

const touch = (r: string): RelationshipUpdate => ({ operation: 'touch', relationship: parseRelationship(r) });
const inserted = (r: string): RelationshipChange => ({
  operation: 'insert',
  relationship: parseRelationship(r),
});
const deleted = (r: string): RelationshipChange => ({
  operation: 'delete',
  relationship: parseRelationship(r),
});

/** Registers a write of `updates` (whose changes insert them) as RedisStore does. */
function writeOf(onTheWay: WritesOnTheWay, ...rels: string[]): () => void {
  const own = updateFields(rels.map(touch));
  return onTheWay.add(own, objectFieldsChanged(rels.map(inserted)));
}

/** Whether a plan of `updates` under `preconditions` waits (a settled promise by the next turn). */
async function waits(
  onTheWay: WritesOnTheWay,
  updates: readonly RelationshipUpdate[],
  preconditions: readonly Precondition[] = [],
): Promise<boolean> {
  const own = updateFields(updates);
  const pending = onTheWay.landedBefore(fieldsRead(updates, preconditions, undefined, own), own.size);
  const settled = await Promise.race([pending, new Promise((r) => setImmediate(() => r('pending')))]);
  return settled === 'pending';
}

describe('WritesOnTheWay', () => {
  it('a write waits for one on its way that writes the same relationship, and not for others', async () => {
    const onTheWay = new WritesOnTheWay();
    const landed = writeOf(onTheWay, 'doc:a#viewer@user:x', 'doc:b#viewer@user:x');
    expect(await waits(onTheWay, [touch('doc:c#viewer@user:x'), touch('doc:a#editor@user:x')])).toBe(false);
    const plan = onTheWay.landedBefore(fieldsRead([touch('doc:b#viewer@user:x')], []), 1);
    expect(await waits(onTheWay, [touch('doc:b#viewer@user:x')])).toBe(true);
    landed();
    expect(await plan).toBe(true);
    expect(onTheWay.size).toBe(0);
    expect(await waits(onTheWay, [touch('doc:b#viewer@user:x')])).toBe(false);
  });

  it('a precondition on an object waits for a write on its way that changes a relationship of it', async () => {
    const onTheWay = new WritesOnTheWay();
    writeOf(onTheWay, 'doc:a#viewer@user:x');
    const on = (filter: Precondition['filter']): Precondition[] => [{ operation: 'must_match', filter }];
    const update = [touch('doc:z#viewer@user:y')];
    expect(await waits(onTheWay, update, on({ resourceType: 'doc', resourceId: 'a' }))).toBe(true);
    expect(await waits(onTheWay, update, on({ subjectType: 'user', subjectId: 'x' }))).toBe(true);
    expect(await waits(onTheWay, update, on({ resourceType: 'doc' }))).toBe(true);
    expect(await waits(onTheWay, update, on({ resourceType: 'doc', resourceId: 'b' }))).toBe(false);
    expect(await waits(onTheWay, update, on({ resourceType: 'folder' }))).toBe(false);
  });

  it('a delete by filter on its way stamps the relationships it deletes: a write of one of them waits', async () => {
    const onTheWay = new WritesOnTheWay();
    const changes = [deleted('doc:a#viewer@user:x'), deleted('doc:a#editor@user:y')];
    onTheWay.add(new Set(), fieldsChanged(changes));
    expect(await waits(onTheWay, [touch('doc:a#editor@user:y')])).toBe(true);
    expect(await waits(onTheWay, [touch('doc:b#editor@user:y')])).toBe(false);
  });

  it('waits for every write it reads from, one after another', async () => {
    const onTheWay = new WritesOnTheWay();
    const first = writeOf(onTheWay, 'doc:a#viewer@user:x');
    const second = writeOf(onTheWay, 'doc:b#viewer@user:x');
    const fields = fieldsRead([touch('doc:a#viewer@user:x'), touch('doc:b#viewer@user:x')], []);
    let done = false;
    const plan = onTheWay.landedBefore(fields, 2).then((waited) => {
      done = true;
      return waited;
    });
    first();
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    second();
    expect(await plan).toBe(true);
  });
});
