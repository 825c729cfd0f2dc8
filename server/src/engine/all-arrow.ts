// Helpers of the intersection arrow `via.all(name)` shared by the compiled plans, the
// well-founded evaluator and the request view: how many relationships an object really has.
import type { PlanEdgeSet } from './check-plan.js';

/** See PlanEdgeSet.existing: the relationships of `x` in `edges`, granting or not. */
export function existingRelationships(edges: PlanEdgeSet, x: number): number {
  return edges.existing === undefined ? edges.forward.degree(x) : edges.existing(x);
}
