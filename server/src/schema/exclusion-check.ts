// Rejects `but not` inside recursion: when the subtracted side depends (through refs, arrows
// and subject sets) on the permission being defined, the rule has no stratified meaning.
import type { ExprAst } from '../policy/ast.js';
import type { ProblemList } from '../policy/problem-list.js';
import type { DeclaredTypes } from './declared-types.js';
import type { NodeKey } from './dependency-graph.js';
import {
  buildDependencyGraph,
  expressionDependencies,
  nodeKey,
  shortestPath,
  stronglyConnectedComponents,
} from './dependency-graph.js';
import { formatExpression } from './format-expression.js';

function exclusions(e: ExprAst): Array<Extract<ExprAst, { op: 'exclusion' }>> {
  switch (e.op) {
    case 'ref':
    case 'arrow':
      return [];
    case 'union':
    case 'intersection':
      return e.operands.flatMap(exclusions);
    case 'exclusion':
      return [e, ...exclusions(e.base), ...exclusions(e.subtract)];
  }
}

export function checkRecursiveExclusions(
  types: DeclaredTypes,
  compiled: ReadonlySet<NodeKey>,
  problems: ProblemList,
): void {
  const graph = buildDependencyGraph(types, compiled);
  const component = stronglyConnectedComponents(graph);
  for (const t of types.values()) {
    for (const p of t.permissions.values()) {
      const self = nodeKey(t.ast.name, p.name);
      if (!compiled.has(self)) continue;
      for (const ex of exclusions(p.expr)) {
        const culprit = expressionDependencies(ex.subtract, t.ast.name, types).find(
          (d) => component.has(d) && component.get(d) === component.get(self),
        );
        if (culprit === undefined) continue;
        const cycle = [self, ...(shortestPath(graph, culprit, self) ?? [culprit, self])];
        problems.add(
          ex.subtract.position,
          p.path,
          `permission '${self}' subtracts '${formatExpression(ex.subtract)}', which depends on '${self}' itself (${cycle.join(' → ')}); recursion through 'but not' has no well-defined meaning, so subtract something that does not lead back to this permission`,
        );
      }
    }
  }
}
