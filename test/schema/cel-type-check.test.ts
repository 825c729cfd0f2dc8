// The static type checker of condition expressions: each kind of type error is reported at load
// with its file:line:column, including in branches an evaluation would skip; every error of an
// expression at once; valid expressions pass; what it cannot type falls back to a trial run.
import { describe, expect, it } from 'vitest';
import { compileFiles, problemLines, yaml } from '../policy/compile-helpers.js';

const PARAMETERS = `
      n: int
      u: uint
      d: double
      s: string
      b: bool
      by: bytes
      t: timestamp
      du: duration
      ip: ipaddress
      l: list<int>
      m: map<int>
      a: any`;

function schemaWith(expression: string): Record<string, string> {
  return {
    'schema.yaml': `kind: schema\nconditions:\n  c:\n    expression: '${expression}'\n    parameters:${PARAMETERS}\ntypes:\n  user: {}\n`,
  };
}

/** The problems of a schema whose one condition is `expression` (line 4; column 18 is its first character). */
const problems = (expression: string): string[] => {
  try {
    compileFiles(schemaWith(expression));
    return [];
  } catch {
    return problemLines(schemaWith(expression));
  }
};

describe('type errors found without evaluating', () => {
  it.each([
    // [kind, expression, expected message, where the error points: the operator, or the call,
    // method or macro node that has no overload (@bufbuild/cel's positions)]
    ['arithmetic on mixed types', 'n + 1.0 > 0', "no overload of '+' takes (int, double)", '+'],
    ['ordering of unrelated types', 's < 1', "no overload of '<' takes (string, int)", '<'],
    ['equality of unrelated types', 's == 1', "no overload of '==' takes (string, int)", '=='],
    ['logical operator on a non-bool', 'n && b', "no overload of '&&' takes (int, bool)", 'n'],
    ['negation of a non-bool', '!s', "no overload of '!' takes (string)", '!'],
    ['minus on a string', '-s == s', "no overload of '- (negation)' takes (string)", '-'],
    ['in over a list of another type', 's in l', "no overload of 'in' takes (string, list<int>)", 'in'],
    [
      'in over a map with a non-string key',
      '1 in m',
      "no overload of 'in' takes (int, map<string, int>)",
      'in',
    ],
    ['size of a number', 'size(n) > 0', "no overload of 'size' takes (int)", 'size'],
    ['field of a non-map', 'n.x == 1', 'int has no fields', '.'],
    ['presence test on a non-map', 'has(s.x)', 'string has no fields', 'has'],
    ['list index of the wrong type', 'l[s] == 1', "no overload of '[]' takes (list<int>, string)", '['],
    ['string method on a number', 'n.contains("a")', "no overload of 'contains' on int takes (string)", '.'],
    ['in_cidr with a non-string', 'ip.in_cidr(1)', "no overload of 'in_cidr' on string takes (int)", '.'],
    ['timestamp getter on a string', 's.getHours() > 1', "no overload of 'getHours' on string takes ()", '.'],
    [
      'duration has no getFullYear',
      'du.getFullYear() > 1',
      "no overload of 'getFullYear' on duration takes ()",
      '.',
    ],
    [
      'conversion from an unconvertible type',
      'timestamp(b) > t',
      "no overload of 'timestamp' takes (bool)",
      'timestamp',
    ],
    ['timestamp and int mixed', 't > n', "no overload of '>' takes (timestamp, int)", '>'],
    ['a conditional whose test is no bool', 'n ? b : b', "no overload of '?:' takes (int, bool, bool)", 'n'],
    [
      'a comprehension over a number',
      'n.all(x, x > 0)',
      'a comprehension ranges over a list or a map, not over int',
      'n',
    ],
    [
      'an error inside a comprehension',
      'l.exists(x, x + "a" == "b")',
      "no overload of '+' takes (int, string)",
      '+',
    ],
    ['an unknown function', 's.lowerAscii() == s', "unknown function 'lowerAscii'", '.'],
  ])('%s: %s', (_kind, expression, message, token) => {
    const column = 18 + expression.indexOf(token);
    expect(problems(expression)).toEqual([
      expect.stringContaining(`schema.yaml:4:${column}: condition 'c' does not type-check: ${message}`),
    ]);
  });

  it('finds an error in a branch that evaluation with zero values short-circuits past', () => {
    // b is false in the trial run, so `n > "x"` was never evaluated before the checker.
    expect(problems('b && n > "x"')).toEqual([
      expect.stringContaining(
        "schema.yaml:4:25: condition 'c' does not type-check: no overload of '>' takes (int, string)",
      ),
    ]);
    expect(problems('b ? s + 1 == "a" : true')).toHaveLength(1);
  });

  it('reports every error of one expression at once, each at its column', () => {
    expect(problems('n + s == 1 || d - b > 0')).toEqual([
      expect.stringContaining(
        "schema.yaml:4:20: condition 'c' does not type-check: no overload of '+' takes (int, string)",
      ),
      expect.stringContaining(
        "schema.yaml:4:34: condition 'c' does not type-check: no overload of '-' takes (double, bool)",
      ),
    ]);
  });

  it('reports a result that is not a bool at the expression (its opening quote)', () => {
    expect(problems('n + 1')).toEqual([
      expect.stringContaining(
        "schema.yaml:4:17: condition 'c' must evaluate to a bool (true or false), not to int",
      ),
    ]);
    expect(problems('l.map(x, x * 2)')).toEqual([expect.stringContaining('not to list<')]);
  });

  it('the problems of one file come with the path and position of the expression in YAML', () => {
    const lines = problemLines({
      'team.schema.yaml': yaml`
        kind: schema
        conditions:
          hours:
            parameters:
              hour: int
            expression: hour >= 9 && hour < "17"
        types:
          user: {}
      `,
    });
    expect(lines).toEqual([
      expect.stringMatching(/^team\.schema\.yaml:6:35: condition 'hours' does not type-check/),
    ]);
  });
});

describe('expressions that type-check', () => {
  it.each([
    'n > 1 && u > 1u && d > 1.5',
    'n < d && u <= n && d >= u',
    '1 == 1.0 && n != d',
    's + "x" == "yx" && s.startsWith("a") && s.endsWith("b") && s.contains("c") && s.matches("^a")',
    'size(s) + s.size() + size(by) + size(l) + size(m) > 0',
    'ip.in_cidr("10.0.0.0/8")',
    't + du > t && t - t > du && t - du < t && du + du > du',
    't.getHours() == 9 && t.getDayOfWeek("Europe/Paris") < 6 && du.getMinutes() > 1',
    't < timestamp("2023-10-11T10:00:00Z") && du > duration("1h")',
    'int(d) == n && double(n) == d && string(n) == s && uint(n) == u && bytes(s) == by && bool(s)',
    '"k" in m && m.k > 1 && m["k"] == 1 && has(m.k)',
    'n in l && l[0] == 1 && l[0u] == 1 && (l + [2]).size() == 2',
    'l.all(x, x > 0) && l.exists(x, x == n) && l.exists_one(x, x == 1) && l.filter(x, x > 1).size() > 0',
    'l.map(x, x * 2)[0] == 2 && m.all(k, k.startsWith("a"))',
    'a.anything.nested == 1 && a > 3 && a + 1 == 2 && has(a.x)',
    '{"x": n}.x == n && [1, 2, 3].size() == 3 && [1, "a"].size() == 2',
    'b ? n : 2 > 1',
    'a == null || dyn(n) == 1',
  ])('%s', (expression) => {
    expect(problems(expression)).toEqual([]);
  });
});

describe('what the checker cannot type', () => {
  it('is still tried once with zero values, which finds what the evaluation reaches', () => {
    // `type(n)` is not typed statically; the trial run reads it and passes.
    expect(problems('type(n) == type(1)')).toEqual([]);
    // A dyn value the checker lets through, applied where the trial run fails on its overload.
    expect(problems('dyn(s) - 1 > 0')).toEqual([
      expect.stringContaining("condition 'c' does not type-check"),
    ]);
  });
});
