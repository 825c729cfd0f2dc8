// Problems that follow from another problem must not bury or contradict it (issue 15, item 11):
// a permission with a typo is still declared, an emptied type list says so, and type
// suggestions compare names within their namespace.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../server/src/engine/create-engine.js';
import { GraphIndex } from '../../server/src/graph/graph-index.js';
import { didYouMeanType } from '../../server/src/schema/did-you-mean.js';
import { compileFiles, problemLines, yaml } from './compile-helpers.js';

const schema = yaml`
  kind: schema
  namespace: desk
  types:
    user: {}
    customer: {}
    doc:
      relations:
        writer: user
        viewer: usr
      permissions:
        write: writer or ownr
`;

describe('follow-on problems', () => {
  it('a typo inside a permission does not make tests say the permission is missing', () => {
    const lines = problemLines({
      'schema.yaml': schema,
      'a.test.yaml': yaml`
        kind: test
        namespace: desk
        name: typo
        assertions:
          - allowed: doc:1#write@user:ann
      `,
    });
    expect(lines).toEqual([
      "schema.yaml:9:15: relation 'viewer': unknown type 'usr' (resolved to 'desk/usr' in namespace 'desk'); did you mean 'user'?",
      "schema.yaml:11:24: unknown relation or permission 'ownr' on type 'desk/doc'",
    ]);
  });

  it('a relationship to a relation whose every type failed says the type list has errors', () => {
    const lines = problemLines({
      'schema.yaml': schema.replace('write: writer or ownr', 'write: writer'),
      'data.yaml': 'kind: relationships\nnamespace: desk\nrelationships:\n  - doc:1#viewer@user:ann\n',
    });
    expect(lines).toContain(
      "data.yaml:4:18: relation 'desk/doc#viewer' does not allow subject 'desk/user:ann' in 'desk/doc:1#viewer@desk/user:ann'; it allows no subject type (its type list has errors)",
    );
    expect(lines.join('\n')).not.toMatch(/it allows $/m);
  });
});

describe('type suggestions compare unqualified names within the namespace', () => {
  it('suggests a close name of the same namespace, never a distant one sharing the prefix', () => {
    const types = ['helpdesk/user', 'helpdesk/customer', 'helpdesk/group', 'crm/usr'];
    expect(didYouMeanType('helpdesk/usr', types)).toBe("; did you mean 'helpdesk/user'?");
    expect(didYouMeanType('helpdesk/users', ['helpdesk/customer', 'helpdesk/group'])).toBe('');
    expect(didYouMeanType('helpdesk/user', ['helpdesk/customer'])).toBe('');
    expect(didYouMeanType('usr', ['user', 'crm/user'])).toBe("; did you mean 'user'?");
  });

  it('in API errors from the validator and from the engine', () => {
    const set = compileFiles({ 'schema.yaml': schema.replace('usr', 'user').replace(' or ownr', '') });
    const engine = createEngine(set.schema, GraphIndex.build(set.schema, [], 1));
    expect(() =>
      engine.check({
        resource: { type: 'desk/doc', id: '1' },
        permission: 'write',
        subject: { type: 'desk/usr', id: 'a' },
      }),
    ).toThrow("subject type 'desk/usr' is not defined in the schema (did you mean 'desk/user'?)");
    expect(() =>
      engine.check({
        resource: { type: 'desk/doc', id: '1' },
        permission: 'write',
        subject: { type: 'desk/account', id: 'a' },
      }),
    ).toThrow(/is not defined in the schema; use one/);
  });
});
