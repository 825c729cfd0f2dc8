// Bad policy input never crashes the compiler: for arbitrary text and for schemas assembled
// from valid and broken fragments, compilePolicySet either returns or throws one PolicyError
// whose problems all point inside the file that caused them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../server/src/errors.js';
import { compilePolicySet } from '../../server/src/policy/compile-policy-set.js';
import type { PolicyFileSource } from '../../server/src/policy/policy-set.js';

function expectCleanOutcome(files: PolicyFileSource[]): void {
  try {
    compilePolicySet(files);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    const problems = (err as PolicyError).problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      const file = files.find((f) => f.path === p.position.file);
      expect(file, `problem in unknown file ${p.position.file}`).toBeDefined();
      const lines = file!.content.split('\n');
      expect(p.position.line).toBeGreaterThanOrEqual(1);
      expect(p.position.line).toBeLessThanOrEqual(lines.length);
      expect(p.position.column).toBeGreaterThanOrEqual(1);
      expect(p.position.column).toBeLessThanOrEqual((lines[p.position.line - 1]?.length ?? 0) + 1);
      expect(p.path.startsWith('$')).toBe(true);
      expect(p.message.length).toBeGreaterThan(0);
    }
  }
}

const name = fc.constantFrom(
  'user',
  'group',
  'doc',
  'member',
  'viewer',
  'view',
  'parent',
  'Bad',
  'or',
  'x/y',
  '',
);
const expression = fc
  .array(fc.oneof(name, fc.constantFrom('or', 'and', 'but not', '->', '(', ')', 'parent->view', 'member')), {
    minLength: 0,
    maxLength: 7,
  })
  .map((parts) => parts.join(' '));
const typeList = fc
  .array(fc.oneof(name, fc.constantFrom('group#member', 'user:*', 'doc#viewer', 'or', 'user:mike')), {
    minLength: 0,
    maxLength: 4,
  })
  .map((parts) => parts.join(' or '));
const quote = (s: string): string => JSON.stringify(s);

const schemaFile = fc
  .array(
    fc.record({
      type: name,
      relations: fc.array(fc.tuple(name, typeList), { maxLength: 3 }),
      permissions: fc.array(fc.tuple(name, expression), { maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((types) => {
    let y = 'kind: schema\ntypes:\n';
    for (const t of types) {
      y += `  ${quote(t.type)}:\n    relations:\n`;
      for (const [r, list] of t.relations) y += `      ${quote(r)}: ${quote(list)}\n`;
      y += '    permissions:\n';
      for (const [p, e] of t.permissions) y += `      ${quote(p)}: ${quote(e)}\n`;
    }
    return y;
  });

const dataFile = fc
  .array(
    fc.constantFrom(
      'doc:d1#viewer@user:ana',
      'group:g#member@group:h#member',
      'doc:d1#view@user:*',
      'bad',
      '',
      'user:x#y@z:1',
    ),
    {
      maxLength: 5,
    },
  )
  .map((rels) => `kind: relationships\nrelationships:\n${rels.map((r) => `  - ${quote(r)}\n`).join('')}`);

describe('compiler robustness', () => {
  it('places an error at the very end of a file after its last newline (found by fast-check)', () => {
    // yaml's own line counter stopped registering lines after this syntax error and put the
    // second problem at line 1, column 14 of a 12-character line.
    const files = [{ path: 'n.yaml', content: "[expect: []'\n" }];
    expect(() => compilePolicySet(files)).toThrow(PolicyError);
    try {
      compilePolicySet(files);
    } catch (err) {
      const positions = (err as PolicyError).problems.map((p) => `${p.position.line}:${p.position.column}`);
      expect(positions).toEqual(['1:12', '2:1']);
    }
    expectCleanOutcome(files);
  });

  it('handles arbitrary text without crashing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (content) =>
        expectCleanOutcome([{ path: 'any.yaml', content }]),
      ),
      { numRuns: 300 },
    );
  });

  it('handles yaml-shaped noise without crashing', () => {
    const token = fc.constantFrom(
      'kind: ',
      'schema',
      'test',
      'types:',
      '\n',
      '  ',
      '- ',
      '{',
      '}',
      '[',
      ']',
      ': ',
      '#',
      'user',
      '? ',
      '&a ',
      '*a',
      '"',
      "'",
      '---',
      'steps:',
      'expect: []',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (tokens) =>
        expectCleanOutcome([{ path: 'noise.yaml', content: tokens.join('') }]),
      ),
      { numRuns: 300 },
    );
  });

  it('handles schemas and data assembled from valid and broken fragments', () => {
    fc.assert(
      fc.property(schemaFile, schemaFile, dataFile, (a, b, data) =>
        expectCleanOutcome([
          { path: 'a/schema.yaml', content: a },
          { path: 'b/schema.yaml', content: b },
          { path: 'data.yaml', content: data },
        ]),
      ),
      { numRuns: 300 },
    );
  });
});
