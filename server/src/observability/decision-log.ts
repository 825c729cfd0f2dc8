// Decision logs: one JSON line per sampled decision (check, batch item, lookup) with the path that
// allowed it or the reason it was denied, queued in a bounded buffer and written asynchronously.
// A full buffer drops lines and counts them: a check never waits for, or fails because of, a log.
import { createWriteStream, type WriteStream } from 'node:fs';
import { Counter, type Registry } from 'prom-client';
import type { CheckRequest, ExplainNode, Explanation } from '../engine/types.js';
import type { ObjectRef, SubjectRef } from '../model/relationship.js';

/** Where lines go: `write` resolves once the chunk (whole lines) is handed to the OS. */
export interface DecisionSink {
  write(chunk: string): Promise<void>;
  close(): Promise<void>;
}

export interface DecisionLogOptions {
  readonly sink: DecisionSink;
  /** Fraction of decisions logged, 0..1. Default 1. */
  readonly sampleRate?: number | undefined;
  /** Log every denial (and failed batch item) whatever the sample rate. Default true. */
  readonly alwaysLogDenials?: boolean | undefined;
  /** Lines held while the sink is busy; past this, lines are dropped and counted. Default 10 000. */
  readonly capacity?: number | undefined;
  /** Uniform in [0, 1): injectable so sampling tests are deterministic. Default Math.random. */
  readonly random?: (() => number) | undefined;
  /** ms since the epoch for the `time` field; injectable for tests. Default Date.now. */
  readonly clock?: (() => number) | undefined;
}

/** What the engine offers a logged decision: the explanation, asked only for sampled ones. */
export interface Explainer {
  explain(request: CheckRequest): Explanation;
}

/** The generation a decision was made on. */
export interface DecisionScope {
  readonly engine: Explainer;
  readonly policyHash: string;
  readonly revision: number;
}

export type DecisionKind = 'check' | 'batch' | 'lookupResources' | 'lookupSubjects';

/** Steps named in a denial reason before it is cut short. */
const MAX_REASON_STEPS = 8;
const DEFAULT_CAPACITY = 10_000;

/**
 * The decision log of one server. Call `sampleCheck` after the engine answered; when it returns
 * true, call `logCheck` (which asks the engine to explain). Callers hold it as `undefined` when
 * logging is off, so the check path pays one comparison.
 */
export class DecisionLog {
  readonly #sink: DecisionSink;
  readonly #rate: number;
  readonly #alwaysDenials: boolean;
  readonly #capacity: number;
  readonly #random: () => number;
  readonly #clock: () => number;
  #queue: string[] = [];
  #dropped = 0;
  #written = 0;
  #writing: Promise<void> | undefined;
  #scheduled = false;
  #closed = false;
  #onSinkError: ((err: Error) => void) | undefined;

  constructor(options: DecisionLogOptions) {
    const rate = options.sampleRate ?? 1;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`sampleRate must be from 0 to 1, got ${rate}`);
    this.#sink = options.sink;
    this.#rate = rate;
    this.#alwaysDenials = options.alwaysLogDenials ?? true;
    this.#capacity = Math.max(1, options.capacity ?? DEFAULT_CAPACITY);
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? Date.now;
  }

  /** Lines dropped because the buffer was full (or the sink failed): gatehouse_decision_logs_dropped_total. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Lines handed to the sink. */
  get written(): number {
    return this.#written;
  }

  /** Told once per sink failure (lines of that chunk count as dropped). */
  set onSinkError(handler: ((err: Error) => void) | undefined) {
    this.#onSinkError = handler;
  }

  /** Whether a decision with this answer is logged; `allowed` undefined means an error (logged like a denial). */
  sample(allowed: boolean | undefined): boolean {
    if (allowed !== true && this.#alwaysDenials) return true;
    return this.#rate >= 1 || (this.#rate > 0 && this.#random() < this.#rate);
  }

  /** Log one check or batch item; explains it (a second evaluation) only here, for sampled decisions. */
  logCheck(
    kind: 'check' | 'batch',
    scope: DecisionScope,
    request: CheckRequest,
    allowed: boolean,
    requestId: string | undefined,
    startMs: number,
    index?: number,
  ): void {
    const latencyMs = performance.now() - startMs;
    let detail: { path: string[] } | { reason: string };
    let decision = allowed ? 'allowed' : 'denied';
    try {
      const explanation = scope.engine.explain(request);
      if (explanation.permissionship === 'conditional') {
        // Neither a permit nor a deny: the request lacked condition parameters.
        decision = 'conditional';
        detail = { reason: `missing context: ${(explanation.missingContext ?? []).join(', ')}` };
      } else
        detail = allowed
          ? { path: allowedPath(explanation.root) }
          : { reason: denialReason(explanation.root) };
    } catch (err) {
      detail = { reason: `not explained: ${(err as Error).message}` };
    }
    this.#enqueue({
      time: new Date(this.#clock()).toISOString(),
      log: 'decision',
      kind,
      requestId: requestId ?? null,
      ...(index === undefined ? {} : { index }),
      subject: subjectString(request.subject),
      resource: objectString(request.resource),
      permission: request.permission,
      decision,
      ...detail,
      latencyMs: round(latencyMs),
      policyHash: scope.policyHash,
      revision: scope.revision,
    });
  }

  /** Log a batch item that failed validation: decision `error` with the reason. */
  logError(
    kind: 'check' | 'batch',
    scope: DecisionScope,
    error: Error,
    requestId: string | undefined,
    startMs: number,
    index?: number,
  ): void {
    this.#enqueue({
      time: new Date(this.#clock()).toISOString(),
      log: 'decision',
      kind,
      requestId: requestId ?? null,
      ...(index === undefined ? {} : { index }),
      decision: 'error',
      reason: error.message,
      latencyMs: round(performance.now() - startMs),
      policyHash: scope.policyHash,
      revision: scope.revision,
    });
  }

  /** Log the sampled items of one batch, each with its index; items that failed validation log as `error`. */
  logBatch(
    scope: DecisionScope,
    items: readonly (CheckRequest | Error)[],
    results: readonly { readonly allowed?: boolean | undefined; readonly error?: Error | undefined }[],
    requestId: string | undefined,
    startMs: number,
  ): void {
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const result = results[i];
      const allowed = result?.allowed;
      if (!this.sample(allowed)) continue;
      if (item instanceof Error) this.logError('batch', scope, item, requestId, startMs, i);
      else if (allowed === undefined)
        this.logError('batch', scope, result?.error ?? new Error('no answer'), requestId, startMs, i);
      else this.logCheck('batch', scope, item, allowed, requestId, startMs, i);
    }
  }

  /** Log one lookup: what was asked and how many answers it gave (lookups are never denials). */
  logLookup(
    kind: 'lookupResources' | 'lookupSubjects',
    scope: DecisionScope,
    query: { subject: string; resource: string; permission: string },
    results: number,
    requestId: string | undefined,
    startMs: number,
  ): void {
    this.#enqueue({
      time: new Date(this.#clock()).toISOString(),
      log: 'decision',
      kind,
      requestId: requestId ?? null,
      subject: query.subject,
      resource: query.resource,
      permission: query.permission,
      decision: 'ok',
      results,
      latencyMs: round(performance.now() - startMs),
      policyHash: scope.policyHash,
      revision: scope.revision,
    });
  }

  /** Write everything queued so far; resolves when the sink took it. */
  async flush(): Promise<void> {
    while (this.#writing !== undefined || this.#queue.length > 0) {
      if (this.#writing !== undefined) await this.#writing;
      else this.#drain();
    }
  }

  /** Flush, then close the sink; later lines are dropped. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    await this.#sink.close();
  }

  #enqueue(line: Record<string, unknown>): void {
    if (this.#closed || this.#queue.length >= this.#capacity) {
      this.#dropped++;
      return;
    }
    this.#queue.push(JSON.stringify(line));
    if (!this.#scheduled && this.#writing === undefined) {
      this.#scheduled = true;
      // Off the request's tick: the answer goes out before the log is written.
      setImmediate(() => {
        this.#scheduled = false;
        this.#drain();
      });
    }
  }

  /** Hand the whole queue to the sink as one chunk; the next chunk waits for this write. */
  #drain(): void {
    if (this.#writing !== undefined || this.#queue.length === 0) return;
    const lines = this.#queue;
    this.#queue = [];
    this.#writing = this.#sink
      .write(`${lines.join('\n')}\n`)
      .then(
        () => {
          this.#written += lines.length;
        },
        (err: unknown) => {
          this.#dropped += lines.length;
          this.#onSinkError?.(err instanceof Error ? err : new Error(String(err)));
        },
      )
      .finally(() => {
        this.#writing = undefined;
        if (this.#queue.length > 0) this.#drain();
      });
  }
}

/** A sink over a write stream; `write` resolves when the stream took the chunk. */
export function streamSink(stream: WriteStream | NodeJS.WritableStream, closeStream: boolean): DecisionSink {
  return {
    write: (chunk) =>
      new Promise((resolve, reject) => {
        stream.write(chunk, (err) => (err ? reject(err) : resolve()));
      }),
    close: () => (closeStream ? new Promise((resolve) => stream.end(() => resolve())) : Promise.resolve()),
  };
}

/**
 * The sink a `decisionLog` setting names: `stdout`, or a file path (appended to, created owner
 * read/write only). stdout is written through the thread pool (an fs stream on fd 1), so a slow
 * reader of the pipe fills the buffer instead of blocking the event loop.
 */
export function openDecisionSink(destination: string): DecisionSink {
  if (destination === 'stdout') {
    return streamSink(createWriteStream('', { fd: 1, autoClose: false }), false);
  }
  return streamSink(createWriteStream(destination, { flags: 'a', mode: 0o600 }), true);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function objectString(o: ObjectRef): string {
  return `${o.type}:${o.id}`;
}

function subjectString(s: SubjectRef): string {
  return s.relation === undefined || s.relation === ''
    ? `${s.type}:${s.id}`
    : `${s.type}:${s.id}#${s.relation}`;
}

function step(node: ExplainNode): string | undefined {
  switch (node.kind) {
    case 'permission':
    case 'relation':
      return `${node.object}#${node.label}`;
    case 'arrow':
      return `${node.object} ${node.label}`;
    case 'direct':
      return node.label;
    default:
      return undefined; // set operators are structure, not steps of the path
  }
}

/** The steps that held, from the permission down to the stored relationship that granted it. */
export function allowedPath(root: ExplainNode): string[] {
  const path: string[] = [];
  let node: ExplainNode | undefined = root;
  while (node !== undefined) {
    const s = step(node);
    if (s !== undefined) path.push(s);
    // Exclusion holds through its first child; unions and the rest through a child that held.
    node = node.kind === 'exclusion' ? node.children[0] : node.children.find((c) => c.result);
  }
  return path;
}

/** Why a check was denied: what excluded it, or the rules that were tried and did not hold. */
export function denialReason(root: ExplainNode): string {
  const excluded = findExclusion(root);
  if (excluded !== undefined) return `excluded by ${excluded}`;
  // A set: the same rule reached along several arrows is named once.
  const tried = new Set<string>();
  const stack: ExplainNode[] = [root];
  while (stack.length > 0 && tried.size < MAX_REASON_STEPS) {
    const node = stack.pop()!;
    if (node.kind === 'cycle') tried.add(`${node.object}#${node.label} (cycle)`);
    else if (node.children.length === 0) {
      const s = step(node);
      if (s !== undefined) tried.add(s);
    }
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  const more = stack.length > 0 ? ', …' : '';
  return tried.size === 0
    ? 'no rule grants it'
    : `no relationship grants it: tried ${[...tried].join(', ')}${more}`;
}

/** The excluding side of an exclusion whose first side held (the `but not` that denied). */
function findExclusion(root: ExplainNode): string | undefined {
  const stack: ExplainNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.kind === 'exclusion' && node.children.length > 1 && node.children[0]!.result) {
      const second = node.children[1]!;
      return allowedPath(second).join(' → ') || step(second) || second.label;
    }
    for (const c of node.children) if (!c.result) stack.push(c);
  }
  return undefined;
}

/**
 * `gatehouse_decision_logs_dropped_total`, read from the log at scrape time (0 when logging is
 * off, so an alert rule works everywhere).
 */
export function registerDecisionLogMetrics(registry: Registry, log: DecisionLog | undefined): void {
  new Counter({
    name: 'gatehouse_decision_logs_dropped_total',
    help: 'Decision log lines dropped because the buffer was full or the destination failed.',
    registers: [registry],
    collect() {
      this.reset();
      if (log !== undefined && log.dropped > 0) this.inc(log.dropped);
    },
  });
}

/** The decision log a config asks for: undefined when `decisionLog` is off. */
export function createDecisionLog(config: {
  readonly decisionLog: string;
  readonly decisionLogSampleRate: number;
  readonly decisionLogAlwaysDenials: boolean;
}): DecisionLog | undefined {
  if (config.decisionLog === 'off') return undefined;
  return new DecisionLog({
    sink: openDecisionSink(config.decisionLog),
    sampleRate: config.decisionLogSampleRate,
    alwaysLogDenials: config.decisionLogAlwaysDenials,
  });
}
