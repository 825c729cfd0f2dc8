// Hot policy reload: load and compile the policies again, refuse a schema under which stored
// relationships would be orphaned, build the new generation's graph while the old one serves,
// let it catch up with the changes that arrived meanwhile, then swap (one assignment, between
// requests). On any failure the last good policies keep serving and the failure is logged (with
// file:line:column positions), counted and shown in /readyz. One reload runs at a time; a
// request during a reload runs once more after it.
import {
  asGatehouseError,
  FailedPreconditionError,
  formatPolicyProblem,
  type GatehouseError,
  PolicyError,
} from '../errors.js';
import type { Relationship } from '../model/relationship.js';
import { formatRelationship } from '../model/relationship.js';
import type { Logger } from '../observability/logger.js';
import type { ReloadResult } from '../observability/metrics.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { Schema } from '../schema/schema.js';
import { findOrphanedRelationships } from '../schema/validate.js';
import type { GatehouseService } from './gatehouse-service.js';
import type { Generation } from './generation.js';

/** How many orphans an error lists by name. */
const ORPHANS_SHOWN = 20;

export interface ReloadOutcome {
  /** success: swapped; unchanged: same policy hash, nothing to do; otherwise why it was refused. */
  readonly result: ReloadResult | 'unchanged';
  /** The policy hash serving after this reload. */
  readonly policyHash: string;
  readonly previousHash: string;
  readonly message?: string | undefined;
  /** The failure, typed, for the API to answer with. */
  readonly error?: GatehouseError | undefined;
}

export interface PolicyReloaderOptions {
  readonly service: GatehouseService;
  /** Loads and compiles the policy files (throws PolicyError with positions when invalid). */
  readonly load: () => Promise<PolicySet>;
  readonly logger?: Logger | undefined;
  /** Told every attempt's result, for metrics. */
  readonly onResult?: ((result: ReloadResult) => void) | undefined;
  /** How long the new graph may take to catch up with the serving one before the reload fails. Default 30 s. */
  readonly catchUpMs?: number | undefined;
}

export class PolicyReloader {
  readonly #options: PolicyReloaderOptions;
  #running: Promise<ReloadOutcome> | undefined;
  #again: Promise<ReloadOutcome> | undefined;

  constructor(options: PolicyReloaderOptions) {
    this.#options = options;
  }

  /** Reload now, or once more right after the reload in progress. Never rejects. */
  reload(reason: string): Promise<ReloadOutcome> {
    if (this.#running === undefined) {
      this.#running = this.#attempt(reason).finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    // Coalesce: every request made during a reload is served by one more reload after it.
    this.#again ??= this.#running.then(() => {
      this.#again = undefined;
      return this.reload(reason);
    });
    return this.#again;
  }

  async #attempt(reason: string): Promise<ReloadOutcome> {
    const { service, logger } = this.#options;
    const previousHash = service.policyHash;
    let next: Generation | undefined;
    try {
      const set = await this.#options.load();
      if (set.schema.hash === previousHash) {
        service.setLastReloadError(undefined);
        logger?.info({ reason, policyHash: previousHash }, 'policies unchanged');
        return { result: 'unchanged', policyHash: previousHash, previousHash };
      }
      await this.#refuseOrphans(set.schema);
      next = await service.buildGeneration(set.schema);
      // Changes committed while the new graph was built: let it apply them before it serves.
      const serving = service.generation.replica.revision;
      await next.replica.waitFor(serving, Date.now() + (this.#options.catchUpMs ?? 30_000));
      service.replaceGeneration(next);
      service.setLastReloadError(undefined);
      this.#options.onResult?.('success');
      logger?.info(
        { reason, policyHash: next.schemaHash, previousHash, revision: next.replica.revision },
        'policies reloaded',
      );
      return { result: 'success', policyHash: next.schemaHash, previousHash };
    } catch (err) {
      if (next !== undefined) void next.replica.close();
      const result: ReloadResult =
        err instanceof PolicyError ? 'invalid' : err instanceof OrphansError ? 'orphaned' : 'error';
      const message = err instanceof Error ? err.message : String(err);
      service.setLastReloadError(message);
      this.#options.onResult?.(result);
      if (err instanceof PolicyError) {
        // One line per problem, each with its file:line:column.
        logger?.error(
          { reason, result, problems: err.problems.map(formatPolicyProblem) },
          'policy reload failed: the policies are invalid; still serving the last good ones',
        );
      } else {
        logger?.error(
          { reason, result, err: message },
          'policy reload failed; still serving the last good policies',
        );
      }
      return { result, policyHash: service.policyHash, previousHash, message, error: asGatehouseError(err) };
    }
  }

  /** Every stored relationship must still be valid under `schema`; the error lists the orphans. */
  async #refuseOrphans(schema: Schema): Promise<void> {
    const snapshot = await this.#options.service.store.snapshot();
    const orphans: Relationship[] = [];
    let count = 0;
    for await (const chunk of snapshot.chunks()) {
      for (const orphan of findOrphanedRelationships(schema, chunk)) {
        count++;
        if (orphans.length < ORPHANS_SHOWN) orphans.push(orphan);
      }
    }
    if (count > 0) throw new OrphansError(count, orphans, snapshot.revision);
  }
}

/** The new schema cannot hold relationships the store has. */
export class OrphansError extends FailedPreconditionError {
  constructor(
    readonly count: number,
    readonly shown: readonly Relationship[],
    revision: number,
  ) {
    const more = count > shown.length ? ` (and ${count - shown.length} more)` : '';
    super(
      `refusing the new policies: ${count} stored relationship(s) at revision ${revision} would be orphaned (the new schema cannot hold them): ${shown.map(formatRelationship).join(', ')}${more}. Delete them first, or keep their types and relations in the schema`,
    );
  }
}
