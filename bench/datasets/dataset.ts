// The shape every benchmark dataset has: a schema directory, a reproducible stream of
// relationship strings, and sampled questions whose answers the generator knows.
import type { Question } from '../harness/types.js';
import type { VisibilityFacts } from '../peers/visibility-facts.js';

/** Named sizes, in relationships. */
export const SIZES = { S: 10_000, M: 1_000_000, L: 10_000_000 } as const;
export type SizeName = keyof typeof SIZES;

export function parseSize(value: string): number {
  if (value in SIZES) return SIZES[value as SizeName];
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 100) {
    throw new Error(`size '${value}' is not S, M, L or a relationship count of at least 100`);
  }
  return n;
}

export interface DatasetOptions {
  /** Approximate number of relationships to generate. */
  readonly relationships: number;
  readonly seed: number;
}

/** A question with the answer the dataset's own model gives. */
export type AnsweredQuestion = Question & { readonly expected: boolean };

export interface Dataset {
  /** `group-visibility`, `helpdesk`, ... */
  readonly name: string;
  /** The namespace the schema's types live in (`helpdesk`), or '' for un-prefixed types. */
  readonly namespace: string;
  /** Schema files (`kind: schema`) as text, keyed by file name: what a server is started with. */
  readonly schemaFiles: ReadonlyMap<string, string>;
  /** Exact number of relationships `relationships()` yields. */
  readonly relationshipCount: number;
  /** Fully namespaced relationship strings, each exactly once, in a fixed order. */
  relationships(): Iterable<string>;
  /**
   * `n` reproducible questions, about `allowedFraction` of them allowed (default 0.5; the
   * returned mix is exact unless the data cannot supply enough of one kind).
   */
  sampleChecks(
    n: number,
    options?: { readonly allowedFraction?: number; readonly seed?: number },
  ): AnsweredQuestion[];
  /**
   * The group-visibility workload only: the same data as plain facts, for the peers that cannot
   * take relationships (Cerbos, casbin, cedar-wasm, CASL). Absent on the seed-system datasets.
   */
  readonly visibilityFacts?: (() => VisibilityFacts) | undefined;
}

/** The share of allowed answers in a question set. */
export function allowedShare(questions: readonly AnsweredQuestion[]): number {
  return questions.length === 0 ? 0 : questions.filter((q) => q.expected).length / questions.length;
}
