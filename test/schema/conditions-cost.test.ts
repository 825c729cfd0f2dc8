// Runtime cost bounds of condition evaluation: `+` cannot build a list, string or bytes value
// over the limits parameter values have (a failed evaluation naming the condition, never a
// long run), while the same operations under the limits evaluate as before.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../server/src/errors.js';
import { MAX_BUILT_LIST, MAX_BUILT_TEXT } from '../../server/src/schema/cel-bounded-ops.js';
import type { ConditionProgram } from '../../server/src/schema/cel-condition.js';
import { compileCondition } from '../../server/src/schema/cel-condition.js';
import type { ParameterType } from '../../server/src/schema/schema.js';

function program(expression: string, parameters: Record<string, ParameterType>): ConditionProgram {
  const p = compileCondition({ name: 'c', parameters: new Map(Object.entries(parameters)), expression });
  if (Array.isArray(p)) throw new Error(p.map((x) => x.message).join('; '));
  return p;
}

const run = (p: ConditionProgram, values: Record<string, unknown>): unknown =>
  p.evaluate(p.bind(values), new Map());

describe('values an evaluation builds stay within the limits', () => {
  const lists = program('(l + l + l).size() > 0', { l: { kind: 'list', element: { kind: 'int' } } });
  const strings = program('(s + s).size() > 0', { s: { kind: 'string' } });
  const bytes = program('size(b + b) > 0', { b: { kind: 'bytes' } });

  it('a list built by + over the limit fails the evaluation, naming the condition', () => {
    const l = Array.from({ length: 100 }, (_, i) => i);
    expect(() => run(lists, { l })).toThrow(InvalidArgumentError);
    expect(() => run(lists, { l })).toThrow(
      new RegExp(`condition 'c' failed: .*a list of 300, over the cost limit of ${MAX_BUILT_LIST}`),
    );
    expect(run(lists, { l: l.slice(0, 80) })).toBe(true);
  });

  it('a string or bytes value built by + over the limit fails too', () => {
    const half = 'x'.repeat(MAX_BUILT_TEXT / 2);
    expect(run(strings, { s: half })).toBe(true);
    expect(() => run(strings, { s: `${half}y` })).toThrow(/a string of 4098, over the cost limit of 4096/);
    const b = Buffer.alloc(MAX_BUILT_TEXT / 2 + 1).toString('base64');
    expect(() => run(bytes, { b })).toThrow(/bytes of 4098, over the cost limit/);
  });

  it('what stays under the limit is unchanged, in comprehensions too', () => {
    const p = program('l.map(x, x * 2).filter(y, y > 2).size() == 2 && (l + [4]).exists(z, z == 4)', {
      l: { kind: 'list', element: { kind: 'int' } },
    });
    expect(run(p, { l: [1, 2, 3] })).toBe(true);
  });
});
