// fast-check generators for engine property tests: random but valid compiled schemas (nested
// and mutually nested groups, wildcards, subject sets on permissions, recursive arrows, arrows
// through subject sets and to targets only some types define, intersection arrows `.all()`,
// intersection, and exclusion — stratified or recursing through `but not`) and random
// relationship sets over small id pools.
import fc from 'fast-check';
import type { Relationship } from '../../server/src/model/relationship.js';
import type { Schema } from '../../server/src/schema/schema.js';
import type { ExprSpec, TypeSpec } from './schema-builder.js';
import { allArrow, and, arrow, butNot, defineSchema, or, ref } from './schema-builder.js';

export const ID_POOLS: Readonly<Record<string, readonly string[]>> = {
  user: ['u0', 'u1', 'u2', 'u3'],
  group: ['g0', 'g1', 'g2', 'g3'],
  team: ['t0', 't1'],
  doc: ['d0', 'd1', 'd2', 'd3'],
};

export const DOC_RELATIONS = ['owner', 'viewer', 'banned', 'parent'] as const;
export const DOC_PERMISSIONS = ['p0', 'p1', 'p2'] as const;

/** A permission expression for doc permission number `i` (see the stratification note). */
function exprArb(i: number): fc.Arbitrary<ExprSpec> {
  const earlier = DOC_PERMISSIONS.slice(0, i);
  const upToSelf = DOC_PERMISSIONS.slice(0, i + 1);
  // Positive leaves may recurse (ref to itself, `parent->self`). Subtracted leaves usually use
  // only relations and earlier permissions (stratified), but may also name any permission, so
  // some schemas recurse through `but not` (evaluated by the well-founded semantics).
  const positiveLeaf = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...DOC_RELATIONS.filter((r) => r !== 'parent')).map(ref) },
    { weight: 2, arbitrary: fc.constantFrom(...upToSelf).map((p) => arrow('parent', p)) },
    { weight: 1, arbitrary: fc.constantFrom('owner', 'viewer').map((r) => arrow('parent', r)) },
    // Defined only on groups, which `parent` may hold as subject sets: a partial arrow target.
    { weight: 1, arbitrary: fc.constantFrom('member', 'any').map((r) => arrow('parent', r)) },
    // Every parent: recursive, to relations, and to targets only groups define (a doc parent fails).
    {
      weight: 2,
      arbitrary: fc.constantFrom(...upToSelf, 'owner', 'viewer', 'member').map((p) => allArrow('parent', p)),
    },
    {
      weight: earlier.length > 0 ? 2 : 0,
      arbitrary: fc.constantFrom(...(earlier.length > 0 ? earlier : ['p0'])).map(ref),
    },
    { weight: 1, arbitrary: fc.constant(ref(DOC_PERMISSIONS[i]!)) },
  );
  const subtractLeaf = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom<ExprSpec>(
        ref('banned'),
        ref('owner'),
        ref('viewer'),
        ...earlier.map(ref),
        ...earlier.map((p) => arrow('parent', p)),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<ExprSpec>(
        ...DOC_PERMISSIONS.map(ref),
        ...DOC_PERMISSIONS.map((p) => arrow('parent', p)),
        ...DOC_PERMISSIONS.map((p) => allArrow('parent', p)),
      ),
    },
  );
  const { expr } = fc.letrec<{ expr: ExprSpec }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 3, arbitrary: positiveLeaf },
      {
        weight: 2,
        arbitrary: fc.array(tie('expr'), { minLength: 2, maxLength: 3 }).map((ops) => or(...ops)),
      },
      {
        weight: 1,
        arbitrary: fc.array(tie('expr'), { minLength: 2, maxLength: 3 }).map((ops) => and(...ops)),
      },
      { weight: 1, arbitrary: fc.tuple(tie('expr'), subtractLeaf).map(([b, s]) => butNot(b, s)) },
    ),
  }));
  return expr;
}

const subsetOf = (options: readonly string[], required: readonly string[]): fc.Arbitrary<string> =>
  fc.subarray([...options]).map((picked) => [...required, ...picked].join(' | '));

export const schemaArb: fc.Arbitrary<Schema> = fc
  .record({
    groupMember: subsetOf(['group#member', 'user:*', 'team#member'], ['user']),
    teamMember: subsetOf(['group#member', 'group#any'], ['user']),
    viewer: subsetOf(['user', 'user:*', 'group#member', 'group#any', 'team#member'], []).filter(
      (s) => s !== '',
    ),
    // `doc#p2` makes a cycle through `but not` possible in the data (OpenFGA's "restricted").
    banned: subsetOf(['group#member', 'user:*', 'doc#p2'], ['user']),
    // Arrows through `parent` walk to the object of a subject set too (SpiceDB).
    parent: subsetOf(['group#member', 'doc#p0'], ['doc']),
    exprs: fc.tuple(exprArb(0), exprArb(1), exprArb(2)),
  })
  .map(({ groupMember, teamMember, viewer, banned, parent, exprs }) => {
    const doc: TypeSpec = {
      relations: { owner: 'user', viewer, banned, parent },
      permissions: { p0: exprs[0], p1: exprs[1], p2: exprs[2] },
    };
    return defineSchema({
      user: {},
      group: {
        relations: { member: groupMember, admin: 'user' },
        permissions: { any: or(ref('member'), ref('admin')) },
      },
      team: { relations: { member: teamMember } },
      doc,
    });
  });

/** Every relationship the schema allows over the id pools. */
export function allowedRelationships(schema: Schema): Relationship[] {
  const out: Relationship[] = [];
  for (const type of schema.types.values()) {
    for (const rel of type.relations.values()) {
      for (const allowed of rel.allowed) {
        for (const id of ID_POOLS[type.name] ?? []) {
          const resource = { type: type.name, id };
          if (allowed.wildcard) {
            out.push({ resource, relation: rel.name, subject: { type: allowed.type, id: '*' } });
            continue;
          }
          for (const sid of ID_POOLS[allowed.type] ?? []) {
            out.push({
              resource,
              relation: rel.name,
              subject: { type: allowed.type, id: sid, relation: allowed.relation },
            });
          }
        }
      }
    }
  }
  return out;
}

/** A schema and a random relationship set it allows (cycles and self-loops included). */
export const scenarioArb: fc.Arbitrary<{ schema: Schema; relationships: Relationship[] }> = schemaArb.chain(
  (schema) => {
    const pool = allowedRelationships(schema);
    return fc
      .uniqueArray(fc.integer({ min: 0, max: pool.length - 1 }), { maxLength: 28 })
      .map((picks) => ({ schema, relationships: picks.map((i) => pool[i]!) }));
  },
);

/** A schema and a sequence of adds (true) and removes (false) of allowed relationships. */
export const operationsArb: fc.Arbitrary<{ schema: Schema; ops: [boolean, Relationship][] }> =
  schemaArb.chain((schema) => {
    const pool = allowedRelationships(schema);
    // Bias towards group nesting edges: they drive the incremental closure.
    const nesting = pool.filter((r) => r.subject.relation !== undefined);
    const pick = fc.oneof(
      fc.constantFrom(...pool),
      nesting.length > 0 ? fc.constantFrom(...nesting) : fc.constantFrom(...pool),
    );
    return fc
      .array(fc.tuple(fc.constantFrom(true, true, false), pick), { maxLength: 40 })
      .map((ops) => ({ schema, ops }));
  });
