// The published JSON Schema for policy files: it uses only keywords the in-test validator
// implements, accepts the documented examples and the seed policies, rejects malformed files,
// and agrees with the compiler's relationship-string parser.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { keywordsOf, SUPPORTED_KEYWORDS, validate } from './json-schema-subset.js';

const repo = resolve(import.meta.dirname, '../..');
const schema = JSON.parse(readFileSync(join(repo, 'schema/gatehouse-policy.schema.json'), 'utf8')) as Record<
  string,
  unknown
>;

function yamlFilesUnder(dir: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true }) as string[])
      .filter((p) => /\.ya?ml$/.test(p))
      .map((p) => join(dir, p));
  } catch {
    return [];
  }
}

describe('schema/gatehouse-policy.schema.json', () => {
  it('is a draft 2020-12 schema with one branch per kind, using only validated keywords', () => {
    const branches = schema.allOf as Array<{
      if: { properties: { kind: { const: string } } };
      then: { $ref: string };
    }>;
    expect(branches.map((b) => [b.if.properties.kind.const, b.then.$ref])).toEqual([
      ['schema', '#/$defs/schemaFile'],
      ['relationships', '#/$defs/relationshipsFile'],
      ['test', '#/$defs/testFile'],
    ]);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const defs = schema.$defs as Record<string, { properties: { kind: { const: string } } }>;
    expect(
      ['schemaFile', 'relationshipsFile', 'testFile'].map((d) => defs[d]?.properties.kind.const),
    ).toEqual(['schema', 'relationships', 'test']);
    expect([...keywordsOf(schema)].filter((k) => !SUPPORTED_KEYWORDS.has(k))).toEqual([]);
  });

  it('accepts every example file in docs/policy-format.md', () => {
    const doc = readFileSync(join(repo, 'docs/policy-format.md'), 'utf8');
    const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((y) => /^kind:/m.test(y));
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const example of examples) expect(validate(schema, parse(example))).toEqual([]);
  });

  it.each(yamlFilesUnder(join(repo, 'policies')).map((f) => [f.slice(repo.length + 1), f]))(
    'accepts %s',
    (_name, file) => {
      expect(validate(schema, parse(readFileSync(file, 'utf8')))).toEqual([]);
    },
  );

  it.each([
    ['a missing kind', { types: {} }],
    ['an unknown kind', { kind: 'schemas', types: {} }],
    ['an unknown top-level key', { kind: 'schema', tipes: {} }],
    ['an invalid type name', { kind: 'schema', types: { Contact: {} } }],
    ['a reserved relation name', { kind: 'schema', types: { doc: { relations: { or: 'user' } } } }],
    [
      'a malformed type list',
      { kind: 'schema', types: { doc: { relations: { viewer: 'user and group' } } } },
    ],
    ['an object in a type list', { kind: 'schema', types: { doc: { relations: { viewer: 'user:mike' } } } }],
    ['an unknown key in a type', { kind: 'schema', types: { doc: { relation: {} } } }],
    [
      'a long-form relation without types',
      { kind: 'schema', types: { doc: { relations: { v: { if_emptied_by_delete: 'user:*' } } } } },
    ],
    ['a malformed relationship', { kind: 'relationships', relationships: ['doc:d1#viewer'] }],
    [
      'an assertion with two checks',
      { kind: 'test', assertions: [{ allowed: 'a:1#r@u:1', denied: 'a:1#r@u:1' }] },
    ],
    ['a lookup without expect', { kind: 'test', lookups: [{ resources: 'doc#view@user:ana' }] }],
    ['an unknown step', { kind: 'test', steps: [{ wrte: [] }] }],
  ])('rejects %s', (_what, doc) => {
    expect(validate(schema, doc)).not.toEqual([]);
  });

  it('reports only the errors of the branch the kind selects', () => {
    expect(validate(schema, { kind: 'schema', types: {}, tipes: {} })).toEqual(['/tipes: not allowed']);
  });

  it('accepts exactly the relationship strings the compiler accepts', () => {
    const pattern = new RegExp(
      (schema.$defs as Record<string, { pattern: string }>).relationship!.pattern,
      'u',
    );
    const accepts = (s: string): boolean => {
      try {
        parseRelationship(s);
        return true;
      } catch {
        return false;
      }
    };
    // Shaped like type:id#relation@subject, with each piece and separator sometimes wrong, so
    // both accepted and rejected strings are common.
    const mostly = <T>(good: readonly T[], bad: readonly T[]) =>
      fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...good) },
        { weight: 2, arbitrary: fc.constantFrom(...bad) },
      );
    const name = mostly(['doc', 'user', 'crm/doc'], ['Doc', 'x/y/z', '', '1a', 'a b']);
    const relation = mostly(['viewer', 'member'], ['crm/doc', 'Viewer', '']);
    const id = mostly(['d1', 'id-1.v=2', 'a/b', '*'], ['', 'with space', 'x:y', 'é']);
    const sep = (right: string) =>
      mostly(
        [right],
        [':', '#', '@', ''].filter((c) => c !== right),
      );
    const text = fc
      .tuple(
        name,
        sep(':'),
        id,
        sep('#'),
        relation,
        sep('@'),
        name,
        sep(':'),
        id,
        fc.option(fc.tuple(sep('#'), relation)),
      )
      .map(
        ([t, s1, i, s2, r, s3, st, s4, si, tail]) =>
          `${t}${s1}${i}${s2}${r}${s3}${st}${s4}${si}${tail === null ? '' : tail.join('')}`,
      );
    let accepted = 0;
    fc.assert(
      fc.property(text, (s) => {
        expect(pattern.test(s)).toBe(accepts(s));
        if (accepts(s)) accepted++;
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
    for (const s of ['group:eng#member@user:ana', 'doc:d1#viewer@group:eng#member', 'doc:d1#viewer@user:*']) {
      expect(pattern.test(s)).toBe(true);
    }
  });
});
