// The operator's use cases: readiness (/readyz), policy reload, ReadSchema and ValidatePolicies
// (compiled in a worker so checks keep being answered meanwhile).
import { FailedPreconditionError, InvalidArgumentError } from '../errors.js';
import type { Revision } from '../store/store.js';
import type { ReplicaStatus } from './graph-replica.js';
import type { ReloadOutcome } from './policy-reload.js';
import type { PolicyValidator } from './policy-validator.js';
import type {
  CallContext,
  SchemaResult,
  ValidatePoliciesParams,
  ValidatePoliciesResult,
} from './requests.js';
import type { UseCaseContext } from './use-case-context.js';

/** The /readyz detail. */
export interface Readiness {
  readonly ready: boolean;
  /** ok: following the store; degraded: answering from local state that may be behind. */
  readonly state: 'ok' | 'degraded';
  readonly replicaState: ReplicaStatus['state'];
  readonly lagRevisions: number;
  readonly lagSeconds: number;
  readonly storeKind: string;
  readonly store: string;
  readonly epoch: string;
  readonly revision: Revision;
  readonly policyHash: string;
  readonly lastError?: string | undefined;
  readonly lastReloadError?: string | undefined;
  readonly lostRevisions?: number | undefined;
  /** Why not ready, when not. */
  readonly reason?: string | undefined;
}

/** Reloads the policies when asked (`serve` sets one when it has a policy directory). */
export interface Reloader {
  reload(reason: string): Promise<ReloadOutcome>;
}

export class Admin {
  readonly #c: UseCaseContext;
  readonly #maxLagMs: number;
  readonly #validator: PolicyValidator;
  #shuttingDown = false;
  #lastReloadError: string | undefined;
  #reloader: Reloader | undefined;

  /** `maxLagMs`: readiness fails once the replica lags by more (0: never). */
  constructor(context: UseCaseContext, maxLagMs: number, validator: PolicyValidator) {
    this.#c = context;
    this.#maxLagMs = maxLagMs;
    this.#validator = validator;
  }

  /** See GatehouseService.readiness. */
  readiness(): Readiness {
    const g = this.#c.generations.current;
    const status = g.replica.status();
    const degraded = status.state !== 'following';
    const maxLagMs = this.#maxLagMs;
    let reason: string | undefined;
    if (this.#shuttingDown) reason = 'shutting down';
    else if (status.state === 'closed' || status.state === 'building') reason = `replica ${status.state}`;
    else if (maxLagMs > 0 && degraded && status.lagSeconds * 1000 > maxLagMs)
      reason = `replication lag ${status.lagSeconds.toFixed(1)} s exceeds the configured maximum of ${maxLagMs} ms`;
    return {
      ready: reason === undefined,
      state: degraded ? 'degraded' : 'ok',
      replicaState: status.state,
      lagRevisions: status.lagRevisions,
      lagSeconds: status.lagSeconds,
      storeKind: this.#c.store.kind,
      store: status.identity.name,
      epoch: status.identity.epoch,
      revision: status.revision,
      policyHash: g.schemaHash,
      lastError: status.lastError,
      lastReloadError: this.#lastReloadError,
      lostRevisions: status.lostRevisions === 0 ? undefined : status.lostRevisions,
      reason,
    };
  }

  /** Readiness goes false from now on. */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  setReloader(reloader: Reloader): void {
    this.#reloader = reloader;
  }

  setLastReloadError(message: string | undefined): void {
    this.#lastReloadError = message;
  }

  /** See GatehouseService.reloadPolicies. */
  async reloadPolicies(
    ctx: CallContext,
  ): Promise<{ result: string; policyHash: string; previousHash: string }> {
    this.#c.auth.authorize(ctx, 'ReloadPolicies');
    if (this.#reloader === undefined) {
      throw new FailedPreconditionError('this server has no policy directory to reload from');
    }
    const outcome = await this.#reloader.reload('api');
    if (outcome.error !== undefined) throw outcome.error;
    return { result: outcome.result, policyHash: outcome.policyHash, previousHash: outcome.previousHash };
  }

  readSchema(ctx: CallContext): SchemaResult {
    this.#c.auth.authorize(ctx, 'ReadSchema');
    const g = this.#c.generations.current;
    return { schemaJson: g.schemaJson, schemaHash: g.schemaHash };
  }

  async validatePolicies(params: ValidatePoliciesParams, ctx: CallContext): Promise<ValidatePoliciesResult> {
    this.#c.auth.authorize(ctx, 'ValidatePolicies');
    if (params.files.length === 0) {
      throw new InvalidArgumentError('files is empty: send the policy files to validate', { field: 'files' });
    }
    return this.#validator.validate(params.files);
  }
}
