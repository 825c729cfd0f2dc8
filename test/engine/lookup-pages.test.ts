// LookupResources pages taken while the graph changes: a stream's later pages come from the answer
// its first page walked, and answers stay in code-unit order as new ids join the kept order.
import { describe, expect, it } from 'vitest';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { crmSchema, engineOf } from './fixtures.js';

const mike = { type: 'user', id: 'mike' };
const base = { resourceType: 'doc', permission: 'view', subject: mike };
const viewer = (id: string) => parseRelationship(`doc:${id}#viewer@group:eng#member`);

describe('lookupResourcePages under writes', () => {
  it('keeps a stream at the answer of its first page while the graph takes writes', () => {
    const docs = Array.from(
      { length: 12 },
      (_, i) => `doc:d${String(i).padStart(2, '0')}#viewer@group:eng#member`,
    );
    const { engine, graph } = engineOf(crmSchema, [...docs, 'group:eng#member@user:mike']);
    const pages = engine.lookupResourcePages({ ...base, limit: 5 })[Symbol.iterator]();
    const first = pages.next().value!;
    graph.add(viewer('d05a'));
    graph.remove(viewer('d11'));
    const rest = [pages.next().value!, pages.next().value!];
    expect(pages.next().done).toBe(true);
    expect([...first.resourceIds, ...rest.flatMap((p) => p.resourceIds)]).toEqual(
      Array.from({ length: 12 }, (_, i) => `d${String(i).padStart(2, '0')}`),
    );
    // A new stream sees the writes.
    const after = [...engine.lookupResourcePages({ ...base, limit: 5 })].flatMap((p) => p.resourceIds);
    expect(after).toContain('d05a');
    expect(after).not.toContain('d11');
  });

  it('orders answers by code units as many new ids are added between lookups', () => {
    const { engine, graph } = engineOf(crmSchema, [
      'group:eng#member@user:mike',
      'doc:m#viewer@group:eng#member',
    ]);
    const expected = ['m'];
    const ids = (round: number) =>
      Array.from(
        { length: 40 * (round + 1) },
        (_, i) => `${['Z', 'a', '_', '1', '|', '='][i % 6]!}${round}-${i}`,
      );
    for (let round = 0; round < 6; round++) {
      for (const id of ids(round)) {
        graph.add(viewer(id));
        expected.push(id);
      }
      // A document mike cannot see is interned too, and must not appear.
      graph.add(parseRelationship(`doc:hidden${round}#owner@user:john`));
      const got = [...engine.lookupResourcePages({ ...base, limit: 7 })].flatMap((p) => p.resourceIds);
      expect(got).toEqual([...expected].sort());
    }
  });

  it('reads a repeated listing at the same graph version from the kept answer, page for page', () => {
    const docs = Array.from({ length: 7 }, (_, i) => `doc:d${i}#viewer@group:eng#member`);
    const { engine, graph } = engineOf(crmSchema, [
      ...docs,
      'group:eng#member@user:mike',
      'group:ops#member@user:john',
      'doc:x#viewer@group:ops#member',
    ]);
    const streamed = [...engine.lookupResourcePages({ ...base, limit: 3 })];
    // The same pages (objects) again, streamed or paged with cursors: their encodings are reused.
    expect([...engine.lookupResourcePages({ ...base, limit: 3 })]).toEqual(streamed);
    const again = [...engine.lookupResourcePages({ ...base, limit: 3 })];
    for (let i = 0; i < streamed.length; i++) expect(again[i]).toBe(streamed[i]);
    const first = engine.lookupResources({ ...base, limit: 3 });
    expect(first).toBe(streamed[0]);
    expect(engine.lookupResources({ ...base, limit: 3, cursor: first.nextCursor })).toBe(streamed[1]);
    // Another subject's listing is its own.
    expect([...engine.lookupResourcePages({ ...base, subject: { type: 'user', id: 'john' } })]).toEqual([
      { resourceIds: ['x'] },
    ]);
    // After a write the answer is walked again.
    graph.add(viewer('d0a'));
    const walked = [...engine.lookupResourcePages({ ...base, limit: 3 })];
    expect(walked[0]).not.toBe(streamed[0]);
    expect(walked.flatMap((p) => p.resourceIds)).toEqual(['d0', 'd0a', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6']);
  });

  it('keeps no more answers than the engine option allows: an evicted answer is walked again', () => {
    const { engine } = engineOf(
      crmSchema,
      [
        'group:eng#member@user:mike',
        'group:ops#member@user:john',
        'doc:a#viewer@group:eng#member',
        'doc:b#viewer@group:ops#member',
      ],
      { lookupCache: { maxEntries: 1, maxIds: 100 } },
    );
    const first = engine.lookupResources(base);
    expect(engine.lookupResources(base)).toBe(first);
    expect(engine.lookupResources({ ...base, subject: { type: 'user', id: 'john' } })).toEqual({
      resourceIds: ['b'],
    });
    const again = engine.lookupResources(base);
    expect(again).not.toBe(first);
    expect(again).toEqual({ resourceIds: ['a'] });
  });
});
