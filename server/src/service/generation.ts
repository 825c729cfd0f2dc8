// What a request reads, as one immutable Generation (schema, resolver, compiled schema JSON,
// replica and engine, deletion consequences), and the holder a policy reload swaps it in: a
// request captures the generation once, so a reload is one assignment between requests.
import type { Limits } from '../config/config.js';
import { Resolver } from '../engine/resolve.js';
import type { DecisionScope } from '../observability/decision-log.js';
import type { Logger } from '../observability/logger.js';
import { type DeletionConsequence, deletionConsequences, type Schema } from '../schema/schema.js';
import { schemaToJson } from '../schema/validate.js';
import type { Store } from '../store/store.js';
import { type EpochChange, GraphReplica, type GraphReplicaOptions } from './graph-replica.js';

/** Everything a request reads that a policy reload replaces: immutable, captured once per request. */
export interface Generation {
  readonly schema: Schema;
  /** Resolves every request's names against `schema`, once (engine/resolve.ts). */
  readonly resolver: Resolver;
  readonly schemaJson: string;
  readonly schemaHash: string;
  readonly replica: GraphReplica;
  readonly consequences: readonly DeletionConsequence[];
}

/** What building a generation needs of the service's options. */
export interface GenerationOptions {
  readonly limits: Limits;
  readonly logger?: Logger | undefined;
  /** Told when the store's data starts anew (new epoch), before the replica resyncs. */
  readonly onEpochChanged?: ((change: EpochChange) => Promise<void> | void) | undefined;
  readonly clock?: (() => number) | undefined;
  readonly graphSource?: GraphReplicaOptions['graphSource'];
  /** Where each applied change set's commit-to-apply delay goes (one histogram for the server's life). */
  readonly applyDelays?: GraphReplicaOptions['applyDelays'];
}

/** Build a generation: the replica's graph is built from the store and follows it. */
export async function buildGeneration(
  schema: Schema,
  store: Store,
  options: GenerationOptions,
): Promise<Generation> {
  const replica = await GraphReplica.start(schema, store, {
    engine: {
      maxDepth: options.limits.maxDepth,
      maxLookupPageSize: options.limits.maxPageSize,
      clock: options.clock,
    },
    logger: options.logger,
    onEpochChanged: options.onEpochChanged,
    clock: options.clock,
    graphSource: options.graphSource,
    applyDelays: options.applyDelays,
  });
  return Object.freeze({
    schema,
    resolver: new Resolver(schema),
    schemaJson: JSON.stringify(schemaToJson(schema)),
    schemaHash: schema.hash,
    replica,
    consequences: Object.freeze(deletionConsequences(schema)),
  });
}

/** Holds the generation requests start on. */
export class GenerationHolder {
  #current: Generation;

  constructor(initial: Generation) {
    this.#current = initial;
  }

  get current(): Generation {
    return this.#current;
  }

  /**
   * Serve `next` from now on: one assignment, between requests (requests in flight finish on
   * the generation they captured). The old replica stops following after `graceMs`, so waits
   * already pending on it can still be met.
   */
  replace(next: Generation, graceMs: number): void {
    const old = this.#current;
    this.#current = next;
    if (old.replica !== next.replica) {
      const timer = setTimeout(() => void old.replica.close(), graceMs);
      timer.unref();
    }
  }
}

/** What a decision line names of the generation it was made on. */
export function scopeOf(g: Generation): DecisionScope {
  return { engine: g.replica.engine, policyHash: g.schemaHash, revision: g.replica.revision };
}
