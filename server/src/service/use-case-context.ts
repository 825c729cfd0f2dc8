// What every use case module of the service shares: the store, limits, authorizer, logs, the
// generation a request starts on, and the revision token of the graph's current revision.
import type { Limits } from '../config/config.js';
import type { DecisionLog } from '../observability/decision-log.js';
import type { Logger } from '../observability/logger.js';
import type { Store, StoreIdentity } from '../store/store.js';
import type { Authorizer } from './auth/token-authorizer.js';
import type { Generation, GenerationHolder } from './generation.js';
import { encodeRevisionToken } from './revision-token.js';

export interface UseCaseContext {
  readonly store: Store;
  readonly limits: Limits;
  readonly auth: Authorizer;
  /** Receives one info line per committed write; reads are never logged. */
  readonly logger: Logger | undefined;
  /** Decision log; undefined logs nothing. */
  readonly decisions: DecisionLog | undefined;
  readonly generations: GenerationHolder;
  readonly tokens: CurrentToken;
}

/** The token of a generation's current revision, re-encoded only when the revision (or store epoch) moves. */
export class CurrentToken {
  #revision = -1;
  #identity: StoreIdentity | undefined;
  #token = '';

  of(g: Generation): string {
    const revision = g.replica.revision;
    const identity = g.replica.identity;
    if (revision !== this.#revision || identity !== this.#identity) {
      this.#token = encodeRevisionToken(revision, identity);
      this.#revision = revision;
      this.#identity = identity;
    }
    return this.#token;
  }
}
