// The schema's `missing_context` rule: `partial` (default, SpiceDB's) answers from what the
// given values decide; `strict` (OpenFGA's, written by `gatehouse import openfga`) leaves a
// condition undecided while any declared parameter is missing, raises a malformed value only
// when the answer depends on it, and lists a subject as conditional in a subject lookup when its
// evaluation met an undecided condition.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import type { Engine } from '../../server/src/engine/types.js';
import { InvalidArgumentError } from '../../server/src/errors.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { importOpenFga, importSpiceDb } from '../../server/src/interop/import.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { compileFiles, problemLines, yaml } from '../policy/compile-helpers.js';
import { q } from './fixtures.js';

function schemaText(rule: string | undefined): string {
  return yaml`
    kind: schema
    ${rule === undefined ? '' : `missing_context: ${rule}`}
    conditions:
      xy:
        parameters:
          x: int
          y: int
        expression: x < 100 || y < 50
      early:
        parameters:
          ts: timestamp
        expression: ts < timestamp("2023-10-11T10:00:00Z")
    types:
      user: {}
      folder:
        relations:
          viewer: user or user with early
      doc:
        relations:
          viewer: user with xy
          parent: folder or folder with xy
        permissions:
          view: viewer or parent->viewer
  `;
}

const RELATIONSHIPS = [
  'doc:1#viewer@user:jon[xy]',
  'doc:2#parent@folder:a',
  'doc:2#parent@folder:b[xy]',
  'folder:a#viewer@user:ann',
  'folder:b#viewer@user:ann',
  'folder:b#viewer@user:bob',
  'doc:3#parent@folder:c',
  'doc:3#parent@folder:d',
  'folder:c#viewer@user:cat[early]',
  'folder:d#viewer@user:cat',
  'folder:c#viewer@user:dan[early]',
];

function engineFor(rule: string | undefined): Engine {
  const schema = compileFiles({ 'schema.yaml': schemaText(rule) }).schema;
  const graph = GraphIndex.build(
    schema,
    RELATIONSHIPS.map((r) => parseRelationship(r)),
    1,
  );
  return createEngine(schema, graph);
}

const partial = engineFor(undefined);
const strict = engineFor('strict');

describe('missing_context in the schema', () => {
  it('is partial by default and part of the schema hash when strict', () => {
    const plain = compileFiles({ 'schema.yaml': schemaText(undefined) }).schema;
    const explicit = compileFiles({ 'schema.yaml': schemaText('partial') }).schema;
    const strictSchema = compileFiles({ 'schema.yaml': schemaText('strict') }).schema;
    expect(plain.missingContext).toBeUndefined();
    expect(explicit.hash).toBe(plain.hash);
    expect(strictSchema.missingContext).toBe('strict');
    expect(strictSchema.hash).not.toBe(plain.hash);
  });

  it('refuses an unknown rule with its position', () => {
    expect(problemLines({ 'schema.yaml': schemaText('lenient') })).toEqual([
      expect.stringMatching(/^schema\.yaml:2:18: missing_context 'lenient' is not a rule; use 'partial'/),
    ]);
  });

  it('refuses two schema files that disagree', () => {
    const lines = problemLines({
      'a.schema.yaml': schemaText('strict'),
      'b.schema.yaml': 'kind: schema\nmissing_context: partial\ntypes:\n  other: {}\n',
    });
    expect(lines).toEqual([
      expect.stringMatching(
        /^b\.schema\.yaml:2:18: missing_context is 'partial' here but 'strict' in a\.schema\.yaml/,
      ),
    ]);
  });
});

describe('a condition with some parameters given', () => {
  it('partial: what the given values decide stands', () => {
    expect(partial.decide({ ...q('doc:1#view@user:jon'), context: { x: 10 } })).toEqual({
      permissionship: 'allowed',
    });
    expect(partial.decide({ ...q('doc:1#view@user:jon'), context: { x: 500 } })).toEqual({
      permissionship: 'conditional',
      missingContext: ['y'],
    });
  });

  it('strict: undecided while any declared parameter is missing, naming all of them', () => {
    expect(strict.decide({ ...q('doc:1#view@user:jon'), context: { x: 10 } })).toEqual({
      permissionship: 'conditional',
      missingContext: ['y'],
    });
    expect(strict.decide(q('doc:1#view@user:jon'))).toEqual({
      permissionship: 'conditional',
      missingContext: ['x', 'y'],
    });
    expect(strict.decide({ ...q('doc:1#view@user:jon'), context: { x: 10, y: 500 } })).toEqual({
      permissionship: 'allowed',
    });
    expect(strict.decide({ ...q('doc:1#view@user:jon'), context: { x: 500, y: 500 } })).toEqual({
      permissionship: 'denied',
    });
  });
});

describe('another path decides', () => {
  it('a check is allowed under both rules when an unconditional path allows', () => {
    for (const engine of [partial, strict]) {
      expect(engine.decide(q('doc:2#view@user:ann')).permissionship).toBe('allowed');
      expect(engine.decide(q('doc:2#view@user:bob')).permissionship).toBe('conditional');
    }
  });

  it('strict: a subject lookup lists a subject conditional when its evaluation met an undecided condition', () => {
    const request = { resource: { type: 'doc', id: '2' }, permission: 'view', subjectType: 'user' };
    expect(partial.lookupSubjects(request)).toEqual({
      subjectIds: ['ann'],
      wildcard: false,
      excludedIds: [],
      conditional: [{ id: 'bob', missingContext: ['x', 'y'] }],
    });
    expect(strict.lookupSubjects(request)).toEqual({
      subjectIds: [],
      wildcard: false,
      excludedIds: [],
      conditional: [
        { id: 'ann', missingContext: ['x', 'y'] },
        { id: 'bob', missingContext: ['x', 'y'] },
      ],
    });
    // With every parameter given nothing is undecided: the lists agree again.
    const given = { ...request, context: { x: 1, y: 1 } };
    expect(strict.lookupSubjects(given)).toEqual(partial.lookupSubjects(given));
  });
});

describe('a malformed context value', () => {
  const noSeconds = { ts: '2023-10-11T11:00.000Z' };

  it('partial: refused as soon as a condition reads it', () => {
    expect(() => partial.decide({ ...q('doc:3#view@user:cat'), context: noSeconds })).toThrow(
      InvalidArgumentError,
    );
  });

  it('strict: ignored when another path decides, refused when the answer depends on it', () => {
    expect(strict.decide({ ...q('doc:3#view@user:cat'), context: noSeconds })).toEqual({
      permissionship: 'allowed',
    });
    expect(() => strict.decide({ ...q('doc:3#view@user:dan'), context: noSeconds })).toThrow(
      /parameter 'ts' of condition 'early' is timestamp/,
    );
    expect(strict.decide({ ...q('doc:3#view@user:eve'), context: noSeconds })).toEqual({
      permissionship: 'denied',
    });
  });
});

describe('the importers', () => {
  const fga = `model
  schema 1.1
type user
type doc
  relations
    define viewer: [user with c]
condition c(x: int) {
  x < 10
}
`;

  it('gatehouse import openfga writes missing_context: strict when the model has conditions', () => {
    const files = importOpenFga(fga, [], 'model.fga').files;
    const schema = files.find((f) => f.path === 'schema.yaml')!.content;
    expect(schema).toMatch(/^missing_context: strict$/m);
    expect(
      compileFiles(Object.fromEntries(files.map((f) => [f.path, f.content]))).schema.missingContext,
    ).toBe('strict');
    const plain = importOpenFga('model\n  schema 1.1\ntype user\n', [], 'plain.fga').files;
    expect(plain.find((f) => f.path === 'schema.yaml')!.content).not.toMatch(/missing_context/);
  });

  it('gatehouse import spicedb keeps the default rule, which is SpiceDB’s', () => {
    const zed =
      'caveat c(x int) {\n  x < 10\n}\ndefinition user {}\ndefinition doc {\n  relation viewer: user with c\n}\n';
    const files = importSpiceDb(zed, 'schema.zed', false).files;
    expect(files.find((f) => f.path === 'schema.yaml')!.content).not.toMatch(/missing_context/);
  });
});
