// The bulk loader's shortcut for lines of an already validated shape must answer exactly what the
// full parse and validation answer: the same relationship for a line they accept, and "not known"
// (so the full path reports it) for any line they reject.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Relationship } from '../../server/src/model/relationship.js';
import { parseRelationship } from '../../server/src/model/relationship.js';
import { KnownShapes } from '../../server/src/policy/known-shapes.js';
import { validateRelationship } from '../../server/src/schema/validate.js';
import { compileFiles, yaml } from './compile-helpers.js';

const { schema } = compileFiles({
  'schema.yaml': yaml`
    kind: schema
    types:
      user: {}
      group:
        relations:
          member: user or group#member
      doc:
        relations:
          viewer: user or user:* or group#member
          owner: user
`,
});

/** What the full path makes of `text`: the relationship, or undefined if it rejects it. */
function full(text: string): Relationship | undefined {
  try {
    const r = parseRelationship(text);
    validateRelationship(schema, r);
    return r;
  } catch {
    return undefined;
  }
}

/** Shapes learned from one valid line each, as the loader learns them. */
function learned(): KnownShapes {
  const shapes = new KnownShapes();
  for (const text of [
    'doc:d#viewer@user:u',
    'doc:d#viewer@user:*',
    'doc:d#viewer@group:g#member',
    'group:g#member@user:u',
  ]) {
    shapes.remember(full(text)!);
  }
  return shapes;
}

describe('KnownShapes', () => {
  it('reads lines of a learned shape as parseRelationship does', () => {
    const shapes = learned();
    for (const text of [
      'doc:a-1.x#viewer@user:b_2',
      'doc:z#viewer@user:*',
      'doc:1#viewer@group:eng#member',
      'group:g#member@user:A=+|/.',
    ]) {
      expect(shapes.read(text)).toEqual(full(text));
      expect(shapes.read(text)).toBeDefined();
    }
  });

  it('does not know a line of a shape never learned (the full path validates it)', () => {
    const shapes = learned();
    expect(shapes.read('doc:d#owner@user:u')).toBeUndefined();
    expect(shapes.read('group:g#member@group:h#member')).toBeUndefined();
  });

  it('never accepts a line the full path rejects, nor answers differently', () => {
    const shapes = learned();
    const piece = fc.constantFrom(
      'doc',
      'user',
      'group',
      'viewer',
      'member',
      'owner',
      ':',
      '#',
      '@',
      '*',
      'a',
      'B9',
      '-',
      '[',
      ']',
      'cond',
      ' ',
      'é',
      '',
    );
    const line = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
    const near = fc.constantFrom(
      'doc:d#viewer@user:u',
      'doc:d#viewer@user:*',
      'doc:d#viewer@group:g#member',
      'group:g#member@user:u',
    );
    // Valid lines with a piece spliced in somewhere, and free-form ones.
    const mutated = fc.tuple(near, fc.nat(30), piece).map(([text, at, p]) => {
      const i = Math.min(at, text.length);
      return text.slice(0, i) + p + text.slice(i);
    });
    fc.assert(
      fc.property(fc.oneof(line, mutated, fc.string()), (text) => {
        const known = shapes.read(text);
        if (known !== undefined) expect(known).toEqual(full(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('does not learn a shape with a condition or expiry', () => {
    const shapes = new KnownShapes();
    shapes.remember({ ...full('doc:d#owner@user:u')!, expiresAt: 1 });
    expect(shapes.read('doc:e#owner@user:v')).toBeUndefined();
  });

  it('checks each id as OBJECT_ID_PATTERN does, length bound included', () => {
    const shapes = learned();
    expect(shapes.read(`doc:${'x'.repeat(1024)}#viewer@user:u`)).toBeDefined();
    expect(shapes.read(`doc:${'x'.repeat(1025)}#viewer@user:u`)).toBeUndefined();
    expect(shapes.read(`doc:d#viewer@user:${'y'.repeat(1025)}`)).toBeUndefined();
    expect(shapes.read('doc:#viewer@user:u')).toBeUndefined();
    expect(shapes.read('doc:d#viewer@user:')).toBeUndefined();
  });
});
