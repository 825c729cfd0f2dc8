// Explain trees and their text rendering: the path that grants, the steps that deny, cycles.
import { describe, expect, it } from 'vitest';
import { formatExplanation } from '../../server/src/engine/format-explanation.js';
import type { ExplainNode } from '../../server/src/engine/types.js';
import { crmSchema, engineOf, q } from './fixtures.js';

describe('explain', () => {
  const { engine } = engineOf(crmSchema, [
    'group:eng#member@user:mike',
    'doc:plan#viewer@group:eng#member',
    'doc:plan#owner@user:zed',
    'doc:a#parent@doc:b',
    'doc:b#parent@doc:a',
  ]);

  it('shows the path through a nested group that grants access', () => {
    const explanation = engine.explain(q('doc:plan#view@user:mike'));
    expect(explanation.allowed).toBe(true);
    expect(formatExplanation(explanation, 'doc:plan#view@user:mike')).toBe(
      [
        'allowed: doc:plan#view@user:mike',
        '✓ doc:plan#view (permission)',
        '  ✓ first but not second (but not)',
        '    ✓ any of (or)',
        '      ✗ doc:plan#owner (relation)',
        '      ✓ doc:plan#viewer (relation)',
        '        ✓ doc:plan#viewer@group:eng#member',
        '          ✓ group:eng#member (relation)',
        '            ✓ group:eng#member@user:mike',
        '    ✗ doc:plan#banned (relation)',
      ].join('\n'),
    );
  });

  it('shows every step that failed for a denial, including the cycle it cut', () => {
    const explanation = engine.explain(q('doc:a#view@user:mike'));
    expect(explanation.allowed).toBe(false);
    const text = formatExplanation(explanation);
    expect(text.split('\n')[0]).toBe('denied');
    expect(text).toContain('✗ doc:a parent->view');
    expect(text).toContain('✗ doc:a#view (cycle: already being evaluated, counts as false here)');
  });

  it('agrees with check on an intersection', () => {
    for (const tuple of ['doc:plan#edit@user:zed', 'doc:plan#edit@user:mike']) {
      const explanation = engine.explain(q(tuple));
      expect(explanation.allowed).toBe(engine.check(q(tuple)));
      expect(explanation.root.children[0]!.kind).toBe('intersection');
    }
  });
});

describe('explain on shared nesting', () => {
  it('expands a group reached twice only the first time', () => {
    const { engine } = engineOf(crmSchema, [
      'doc:d#viewer@group:a#member',
      'doc:d#viewer@group:b#member',
      'group:a#member@group:c#member',
      'group:b#member@group:c#member',
      'group:c#member@group:e#member',
      'group:e#member@user:ann',
    ]);
    const explanation = engine.explain(q('doc:d#view@user:mike'));
    expect(explanation.allowed).toBe(false);
    const visits: number[] = [];
    const walk = (n: ExplainNode): void => {
      if (n.kind === 'relation' && n.object === 'group:c') visits.push(n.children.length);
      for (const c of n.children) walk(c);
    };
    walk(explanation.root);
    expect(visits).toEqual([1, 0]);
  });
});
