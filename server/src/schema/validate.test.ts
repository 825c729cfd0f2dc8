// Runtime validation of API input against a compiled schema, orphan detection and schema JSON.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { parseRelationship } from '../model/relationship.js';
import { compilePolicySet } from '../policy/compile-policy-set.js';
import type { Schema } from './schema.js';
import {
  findOrphanedRelationships,
  schemaToJson,
  validateCheckTarget,
  validateRelationship,
} from './validate.js';

function schemaOf(content: string): Schema {
  return compilePolicySet([{ path: 'schema.yaml', content }]).schema;
}

const schema = schemaOf(`kind: schema
types:
  user: {}
  group:
    relations:
      member: user or group#member
  doc:
    relations:
      owner: user
      viewer: user:* or group#member
    permissions:
      view: owner or viewer
`);

function rejection(run: () => unknown): InvalidArgumentError {
  try {
    run();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('validateRelationship', () => {
  it.each([
    'doc:d1#owner@user:ana',
    'doc:d1#viewer@user:*',
    'doc:d1#viewer@group:eng#member',
    'group:eng#member@group:ops#member',
  ])('accepts %s', (text) => {
    expect(() => validateRelationship(schema, parseRelationship(text))).not.toThrow();
  });

  it.each([
    ['dok:d1#owner@user:ana', "unknown type 'dok'; did you mean 'doc'?"],
    ['doc:d1#ownr@user:ana', "type 'doc' has no relation 'ownr'; did you mean 'owner'?"],
    [
      'doc:d1#view@user:ana',
      "'view' is a permission of 'doc', computed from relations; write relationships to one of its relations ('owner', 'viewer')",
    ],
    ['doc:d1#owner@usr:ana', "unknown subject type 'usr'; did you mean 'user'?"],
    [
      'doc:d1#viewer@group:eng#membr',
      "subject set 'group#membr': type 'group' has no relation or permission 'membr'; did you mean 'member'?",
    ],
    [
      'doc:d1#owner@user:*',
      "relation 'doc#owner' does not allow the wildcard 'user:*' in 'doc:d1#owner@user:*'; it allows user",
    ],
    [
      'doc:d1#viewer@user:ana',
      "relation 'doc#viewer' does not allow subject 'user:ana' in 'doc:d1#viewer@user:ana'; it allows user:*, group#member",
    ],
    [
      'doc:d1#owner@group:eng#member',
      "relation 'doc#owner' does not allow subject 'group:eng#member' in 'doc:d1#owner@group:eng#member'; it allows user",
    ],
  ])('rejects %s', (text, message) => {
    const err = rejection(() => validateRelationship(schema, parseRelationship(text), 'updates[3]'));
    expect(err.message).toBe(message);
    expect(err.field).toBe('updates[3]');
    expect(err.code).toBe('INVALID_ARGUMENT');
  });
});

describe('validateCheckTarget', () => {
  it('returns the permission or relation definition', () => {
    expect(validateCheckTarget(schema, 'doc', 'view').kind).toBe('permission');
    expect(validateCheckTarget(schema, 'doc', 'owner').kind).toBe('relation');
  });

  it('rejects unknown types and names with a did-you-mean', () => {
    expect(rejection(() => validateCheckTarget(schema, 'docs', 'view', 'resource')).message).toBe(
      "unknown type 'docs'; did you mean 'doc'?",
    );
    const err = rejection(() => validateCheckTarget(schema, 'doc', 'veiw', 'permission'));
    expect(err.message).toBe("type 'doc' has no permission or relation 'veiw'; did you mean 'view'?");
    expect(err.field).toBe('permission');
  });
});

describe('findOrphanedRelationships', () => {
  it('returns, in order, the stored relationships a new schema can no longer hold', () => {
    const stored = [
      'doc:d1#owner@user:ana',
      'doc:d1#viewer@user:*',
      'group:eng#member@user:bob',
      'doc:d2#viewer@group:eng#member',
    ].map((t) => parseRelationship(t));
    const narrower = schemaOf(`kind: schema
types:
  user: {}
  group:
    relations:
      member: user
  doc:
    relations:
      owner: user
      viewer: group#member
`);
    expect(findOrphanedRelationships(narrower, stored)).toEqual([stored[1]]);
    expect(findOrphanedRelationships(schema, stored)).toEqual([]);
  });
});

describe('schemaToJson', () => {
  it('is the same for schemas declared in a different order', () => {
    const reordered = schemaOf(`kind: schema
types:
  doc:
    permissions:
      view: owner or viewer
    relations:
      viewer: group#member or user:*
      owner: user
  group:
    relations:
      member: group#member or user
  user: {}
`);
    expect(JSON.stringify(schemaToJson(reordered))).toBe(JSON.stringify(schemaToJson(schema)));
    expect(reordered.hash).toBe(schema.hash);
  });
});
