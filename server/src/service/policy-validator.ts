// Compiles submitted policy files in worker threads so a large ValidatePolicies never blocks the
// event loop: bounded workers, a bounded queue, a bounded input size and a bounded worker heap.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LimitExceededError, type PolicyProblem, UnavailableError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { PolicyFileSource } from '../policy/index.js';
import type { WorkerReply } from './policy-validator-worker.js';
import type { ValidatePoliciesResult } from './requests.js';

export interface PolicyValidatorOptions {
  /** Total bytes (paths plus contents, UTF-8) one call may submit. */
  readonly maxInputBytes: number;
  /** Workers compiling at once. Default 1. */
  readonly workers?: number | undefined;
  /** Calls waiting for a worker before more are refused with RESOURCE_EXHAUSTED. Default 4. */
  readonly maxQueued?: number | undefined;
  /** Old-generation heap of each worker (MB); past it the worker dies, not the process. Default 512. */
  readonly maxHeapMb?: number | undefined;
  readonly logger?: Logger | undefined;
}

interface Job {
  readonly files: readonly PolicyFileSource[];
  readonly resolve: (result: ValidatePoliciesResult) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The worker entry. Built, it sits beside this module. Run from TypeScript sources (vitest), a
 * worker cannot load `.ts`, so the built copy of the same source is used (`npm test` builds first).
 */
function workerUrl(): URL {
  const here = new URL('./policy-validator-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  const built = new URL('../../dist/service/policy-validator-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(built))) {
    throw new Error(`${fileURLToPath(built)} is missing: run \`npm run build\` first`);
  }
  return built;
}

export class PolicyValidator {
  readonly #maxInputBytes: number;
  readonly #workers: number;
  readonly #maxQueued: number;
  readonly #maxHeapMb: number;
  readonly #logger: Logger | undefined;
  readonly #idle: Worker[] = [];
  readonly #busy = new Set<Worker>();
  readonly #queue: Job[] = [];
  #closed = false;

  constructor(options: PolicyValidatorOptions) {
    this.#maxInputBytes = options.maxInputBytes;
    this.#workers = Math.max(1, options.workers ?? 1);
    this.#maxQueued = Math.max(0, options.maxQueued ?? 4);
    this.#maxHeapMb = options.maxHeapMb ?? 512;
    this.#logger = options.logger;
  }

  /** Compile the files in a worker; `problems` lists every problem, sorted, as compilePolicySet reports them. */
  validate(files: readonly PolicyFileSource[]): Promise<ValidatePoliciesResult> {
    if (this.#closed) return Promise.reject(new UnavailableError('the server is shutting down'));
    let bytes = 0;
    for (const f of files) bytes += Buffer.byteLength(f.path) + Buffer.byteLength(f.content);
    if (bytes > this.#maxInputBytes) {
      return Promise.reject(
        new LimitExceededError(
          `the policy files total ${bytes} bytes, over the ValidatePolicies limit of ${this.#maxInputBytes} bytes: validate fewer or smaller files`,
          { field: 'files' },
        ),
      );
    }
    const running = this.#busy.size;
    if (running >= this.#workers && this.#queue.length >= this.#maxQueued) {
      return Promise.reject(
        new LimitExceededError(
          `too many policy validations in progress (${running} running, ${this.#queue.length} queued, the limit): retry later`,
        ),
      );
    }
    return new Promise<ValidatePoliciesResult>((resolve, reject) => {
      this.#queue.push({ files, resolve, reject });
      this.#pump();
    });
  }

  /** Terminate every worker and refuse queued calls. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new UnavailableError('the server is shutting down'));
    const all = [...this.#idle.splice(0), ...this.#busy];
    this.#busy.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#busy.size < this.#workers) {
      const job = this.#queue.shift() as Job;
      let worker: Worker;
      try {
        worker = this.#idle.pop() ?? this.#spawn();
      } catch (err) {
        job.reject(err);
        continue;
      }
      this.#run(worker, job);
    }
  }

  #spawn(): Worker {
    const worker = new Worker(workerUrl(), { resourceLimits: { maxOldGenerationSizeMb: this.#maxHeapMb } });
    // An idle worker must not keep the process alive.
    worker.unref();
    return worker;
  }

  #run(worker: Worker, job: Job): void {
    this.#busy.add(worker);
    // A running validation keeps the process alive; an idle worker does not.
    worker.ref();
    let settled = false;
    const finish = (reuse: boolean): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      this.#busy.delete(worker);
      worker.unref();
      if (reuse && !this.#closed) this.#idle.push(worker);
      else {
        // A late 'error' from a dying worker must not become an uncaught exception.
        worker.on('error', () => undefined);
        void worker.terminate();
      }
      this.#pump();
    };
    const onMessage = (reply: WorkerReply): void => {
      if (settled) return;
      settled = true;
      if ('failure' in reply) {
        this.#logger?.error({ err: reply.failure }, 'policy validation failed unexpectedly');
        job.reject(new Error('policy validation failed unexpectedly'));
      } else {
        job.resolve({ valid: reply.valid, problems: reply.problems as readonly PolicyProblem[] });
      }
      finish(true);
    };
    const onError = (err: Error & { code?: string }): void => {
      if (settled) return;
      settled = true;
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        job.reject(
          new LimitExceededError(
            `compiling the policy files needed more than the validator's ${this.#maxHeapMb} MB heap: validate fewer or smaller files`,
            { field: 'files' },
          ),
        );
      } else {
        this.#logger?.error({ err }, 'policy validation worker failed');
        job.reject(new Error('policy validation failed unexpectedly'));
      }
      finish(false);
    };
    const onExit = (code: number): void => {
      if (settled) return;
      settled = true;
      job.reject(
        this.#closed
          ? new UnavailableError('the server is shutting down')
          : new Error(`policy validation worker exited with code ${code}`),
      );
      finish(false);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job.files);
  }
}
