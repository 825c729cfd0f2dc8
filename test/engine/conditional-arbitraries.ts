// Arbitraries for three-valued property tests: random schemas whose relations may carry the
// condition `lt` (x < y), relationships with conditions and expiries, contexts and contextual
// relationships (conditions-vs-reference.test.ts, explain-conditional.test.ts).
import fc from 'fast-check';
import type { Relationship } from '../../server/src/model/relationship.js';
import type { AllowedSubject, ObjectTypeDef, Schema } from '../../server/src/schema/schema.js';
import { allowedRelationships, schemaArb } from './arbitraries.js';

export const NOW = Date.parse('2026-06-01T00:00:00Z');

/** `x < y` over two ints: either may be stored on the relationship or come from the request. */
export function withCondition(schema: Schema): Schema {
  const types = new Map<string, ObjectTypeDef>();
  for (const t of schema.types.values()) {
    const relations = new Map(
      [...t.relations.values()].map((r) => [
        r.name,
        {
          ...r,
          allowed: r.allowed.map(
            (a): AllowedSubject => ({ ...a, conditions: ['lt'], requiresCondition: false }),
          ),
        },
      ]),
    );
    types.set(t.name, { ...t, relations });
  }
  const lt = {
    name: 'lt',
    parameters: new Map([
      ['x', { kind: 'int' as const }],
      ['y', { kind: 'int' as const }],
    ]),
    expression: 'x < y',
  };
  return { types, conditions: new Map([['lt', lt]]), hash: `${schema.hash}+lt` };
}

/** A relationship's attributes: none, a condition with some stored values, an expiry, or both. */
export const attributesArb = fc.record({
  condition: fc.option(
    fc.constantFrom<Record<string, number>>({}, { y: 1 }, { y: 3 }, { x: 2 }, { x: 0, y: 1 }, { x: 2, y: 1 }),
    { nil: undefined, freq: 2 },
  ),
  expiresAt: fc.option(fc.constantFrom(NOW - 1, NOW, NOW + 1), { nil: undefined, freq: 3 }),
});

export function attribute(
  r: Relationship,
  a: { condition?: Record<string, number>; expiresAt?: number },
): Relationship {
  return {
    ...r,
    ...(a.condition === undefined
      ? {}
      : {
          condition:
            Object.keys(a.condition).length === 0 ? { name: 'lt' } : { name: 'lt', context: a.condition },
        }),
    ...(a.expiresAt === undefined ? {} : { expiresAt: a.expiresAt }),
  };
}

export const scenario3Arb = schemaArb.map(withCondition).chain((schema) => {
  const pool = allowedRelationships(schema);
  const pick = fc.tuple(fc.integer({ min: 0, max: pool.length - 1 }), attributesArb);
  return fc.record({
    schema: fc.constant(schema),
    relationships: fc
      .uniqueArray(pick, { maxLength: 24, selector: ([i]) => i })
      .map((picks) => picks.map(([i, a]) => attribute(pool[i]!, a))),
    contextual: fc
      .array(pick, { maxLength: 3 })
      .map((picks) => picks.map(([i, a]) => attribute(pool[i]!, a))),
    context: fc.constantFrom<Record<string, number> | undefined>(
      undefined,
      {},
      { x: 1 },
      { y: 2 },
      { x: 1, y: 2 },
    ),
  });
});
