// Collects every problem found while parsing and compiling policy files, so all of them can be
// reported at once in one PolicyError instead of stopping at the first.

import type { PolicyProblem, SourcePosition } from '../errors.js';
import { PolicyError } from '../errors.js';

export class ProblemList {
  private readonly items: PolicyProblem[] = [];

  add(position: SourcePosition, path: string, message: string): void {
    this.items.push({ position, path, message });
  }

  get size(): number {
    return this.items.length;
  }

  get problems(): readonly PolicyProblem[] {
    return this.items;
  }

  /** Throw one PolicyError carrying every problem (sorted by PolicyError), if there is any. */
  throwIfAny(): void {
    if (this.items.length > 0) throw new PolicyError(this.items);
  }
}
