// Warns about relations and permissions that can never be true, with the real reason: a rule
// whose every way to hold recurses back into itself, or one that depends only on other rules
// that can never be true. A warning, not a refusal: SpiceDB and OpenFGA accept such models
// (and every answer on them is correctly false), so an import must not fail on them.
import type { ProblemList } from '../policy/problem-list.js';
import type { DeclaredTypes } from './declared-types.js';
import type { NodeKey } from './dependency-graph.js';
import { buildDependencyGraph, shortestPath, stronglyConnectedComponents } from './dependency-graph.js';
import { findUnproductive } from './productivity.js';

const quoteList = (keys: readonly string[]): string => keys.map((k) => `'${k}'`).join(', ');

/** Why `key` (unproductive) can never be true, in a sentence that follows "can never be true: ". */
function reason(
  key: NodeKey,
  graph: ReadonlyMap<NodeKey, readonly NodeKey[]>,
  component: ReadonlyMap<NodeKey, number>,
  unproductive: ReadonlySet<NodeKey>,
): string {
  const deps = [...new Set(graph.get(key) ?? [])];
  const cyclic = deps.filter((d) => d === key || component.get(d) === component.get(key));
  const elsewhere = deps.filter((d) => !cyclic.includes(d) && unproductive.has(d)).sort();
  if (cyclic.length > 0) {
    const loop = cyclic.includes(key)
      ? [key, key]
      : [key, ...(shortestPath(graph, cyclic[0]!, key) ?? [key])];
    const plus =
      elsewhere.length > 0
        ? `; its other ways depend on ${quoteList(elsewhere)}, which can never be true`
        : '';
    return `every way to satisfy it recurses back into itself (${loop.join(' → ')}) without reaching a stored subject${plus}; add a base case such as a relation it can be granted through`;
  }
  if (elsewhere.length > 0) {
    return `it depends only on ${quoteList(elsewhere)}, which can never be true; fix ${elsewhere.length === 1 ? 'that rule' : 'those rules'} first`;
  }
  return 'no way to satisfy it reaches a stored subject';
}

export function warnNeverTrue(
  types: DeclaredTypes,
  compiled: ReadonlySet<NodeKey>,
  problems: ProblemList,
): void {
  const unproductive = findUnproductive(types, compiled);
  if (unproductive.size === 0) return;
  const graph = buildDependencyGraph(types, compiled);
  const component = stronglyConnectedComponents(graph);
  for (const key of unproductive) {
    const hash = key.lastIndexOf('#');
    const t = types.get(key.slice(0, hash))!;
    const name = key.slice(hash + 1);
    const rule = t.permissions.get(name) ?? t.relations.get(name)!;
    const what = t.permissions.has(name) ? 'permission' : 'relation';
    problems.warn(
      rule.position,
      rule.path,
      `${what} '${key}' can never be true: ${reason(key, graph, component, unproductive)}`,
    );
  }
}
