// Collects every problem found while parsing and compiling policy files, so all of them can be
// reported at once in one PolicyError instead of stopping at the first. Warnings (a policy
// that is valid but almost certainly not what was meant) are kept apart: they never refuse a
// policy unless the caller asks for strictness (`validate --strict`).

import type { PolicyProblem, SourcePosition } from '../errors.js';
import { PolicyError } from '../errors.js';

export class ProblemList {
  private readonly items: PolicyProblem[] = [];
  private readonly warningItems: PolicyProblem[] = [];

  add(position: SourcePosition, path: string, message: string): void {
    this.items.push({ position, path, message });
  }

  /** A problem that does not make the policy invalid (see PolicySet.warnings). */
  warn(position: SourcePosition, path: string, message: string): void {
    this.warningItems.push({ position, path, message });
  }

  get size(): number {
    return this.items.length;
  }

  get problems(): readonly PolicyProblem[] {
    return this.items;
  }

  get warnings(): readonly PolicyProblem[] {
    return this.warningItems;
  }

  /** Throw one PolicyError carrying every problem (sorted by PolicyError), if there is any. */
  throwIfAny(): void {
    if (this.items.length > 0) throw new PolicyError(this.items);
  }
}
