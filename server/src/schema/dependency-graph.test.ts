// Tarjan's strongly connected components and shortest paths over the rule dependency graph.
import { describe, expect, it } from 'vitest';
import { shortestPath, stronglyConnectedComponents } from './dependency-graph.js';

const graph = new Map<string, string[]>([
  ['a', ['b']],
  ['b', ['c', 'd']],
  ['c', ['a']],
  ['d', ['e']],
  ['e', ['d']],
  ['f', ['f']],
  ['g', []],
]);

describe('stronglyConnectedComponents', () => {
  it('groups exactly the mutually reachable nodes', () => {
    const scc = stronglyConnectedComponents(graph);
    const groups = new Map<number, string[]>();
    for (const [node, id] of scc) groups.set(id, [...(groups.get(id) ?? []), node]);
    expect([...groups.values()].map((g) => g.sort().join('')).sort()).toEqual(['abc', 'de', 'f', 'g']);
  });

  it('includes nodes that are only edge targets', () => {
    expect(stronglyConnectedComponents(new Map([['x', ['y']]])).has('y')).toBe(true);
  });
});

describe('shortestPath', () => {
  it('finds the shortest route, ends included', () => {
    expect(shortestPath(graph, 'a', 'e')).toEqual(['a', 'b', 'd', 'e']);
    expect(shortestPath(graph, 'c', 'b')).toEqual(['c', 'a', 'b']);
    expect(shortestPath(graph, 'f', 'f')).toEqual(['f']);
  });

  it('returns undefined when the target is unreachable', () => {
    expect(shortestPath(graph, 'd', 'a')).toBeUndefined();
  });
});
