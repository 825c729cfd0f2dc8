// Decision logs through the service: the schema of each line, sampling, the dropped counter under
// a slow sink, the file destination, and nothing logged (no explain call) when off.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../../server/src/config/config.js';
import {
  DecisionLog,
  type DecisionLogOptions,
  type DecisionSink,
  openDecisionSink,
  registerDecisionLogMetrics,
} from '../../server/src/observability/decision-log.js';
import { GatehouseService } from '../../server/src/service/gatehouse-service.js';
import { MemoryStore } from '../../server/src/store/index.js';
import { PATIENCE } from '../support/wait-until.js';
import { checkOf, ctx, fixturePolicySet } from './fixture.js';

const services: GatehouseService[] = [];
afterEach(() => {
  for (const s of services.splice(0)) s.close();
});

/** A sink that keeps what it is given; `hold()` makes writes wait until `release()`. */
class MemorySink implements DecisionSink {
  readonly chunks: string[] = [];
  writes = 0;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  hold(): void {
    this.#gate = new Promise((r) => {
      this.#open = r;
    });
  }
  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }
  async write(chunk: string): Promise<void> {
    this.writes++;
    if (this.#gate !== undefined) await this.#gate;
    this.chunks.push(chunk);
  }
  async close(): Promise<void> {}
  lines(): Record<string, unknown>[] {
    return this.chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

async function start(log: DecisionLog | undefined): Promise<GatehouseService> {
  const set = fixturePolicySet();
  const store = MemoryStore.withRelationships(set.relationships.map((r) => r.relationship));
  const service = await GatehouseService.create({
    schema: set.schema,
    store,
    limits: DEFAULT_LIMITS,
    decisionLog: log,
  });
  services.push(service);
  return service;
}

function logWith(sink: DecisionSink, options: Partial<DecisionLogOptions> = {}): DecisionLog {
  return new DecisionLog({ sink, clock: () => Date.UTC(2026, 0, 2, 3, 4, 5), ...options });
}

const COMMON = ['time', 'log', 'kind', 'requestId', 'decision', 'latencyMs', 'policyHash', 'revision'];

it('writes one line per check with the path that allowed it or the reason it was denied', async () => {
  const sink = new MemorySink();
  const log = logWith(sink);
  const service = await start(log);
  const c = { ...ctx(), requestId: 'req-1' };
  expect((await service.check(checkOf('document:plan', 'view', 'user:alice'), c)).allowed).toBe(true);
  expect((await service.check(checkOf('document:plan', 'edit', 'user:alice'), c)).allowed).toBe(false);
  await log.flush();
  const [allowed, denied] = sink.lines();
  expect(Object.keys(allowed!).sort()).toEqual(
    [...COMMON, 'subject', 'resource', 'permission', 'path'].sort(),
  );
  expect(allowed).toMatchObject({
    time: '2026-01-02T03:04:05.000Z',
    log: 'decision',
    kind: 'check',
    requestId: 'req-1',
    subject: 'user:alice',
    resource: 'document:plan',
    permission: 'view',
    decision: 'allowed',
    policyHash: service.policyHash,
    revision: service.revision,
  });
  // From the permission down to the stored relationships that granted it.
  expect(allowed!.path).toEqual([
    'document:plan#view',
    'document:plan#viewer',
    'document:plan#viewer@group:eng#member',
    'group:eng#member',
    'group:eng#member@user:alice',
  ]);
  expect(typeof allowed!.latencyMs).toBe('number');
  expect(allowed!.latencyMs as number).toBeGreaterThanOrEqual(0);
  expect(Object.keys(denied!).sort()).toEqual(
    [...COMMON, 'subject', 'resource', 'permission', 'reason'].sort(),
  );
  expect(denied).toMatchObject({ decision: 'denied', permission: 'edit', requestId: 'req-1' });
  expect(denied!.reason).toContain('document:plan#owner');
});

it('logs each batch item with its index (invalid items as errors) and each lookup', async () => {
  const sink = new MemorySink();
  const log = logWith(sink);
  const service = await start(log);
  await service.checkBatch(
    {
      items: [
        checkOf('document:readme', 'view', 'user:alice'),
        checkOf('document:readme', 'nope', 'user:alice'),
        checkOf('document:readme', 'edit', 'user:alice'),
      ],
    },
    ctx(),
  );
  const lookup = await service.lookupResources(
    { resourceType: 'document', permission: 'view', subject: { type: 'user', id: 'alice' } },
    ctx(),
  );
  await service.lookupSubjects(
    { resource: { type: 'document', id: 'plan' }, permission: 'view', subjectType: 'user' },
    ctx(),
  );
  await log.flush();
  const lines = sink.lines();
  expect(lines.map((l) => [l.kind, l.index, l.decision])).toEqual([
    ['batch', 0, 'allowed'],
    ['batch', 1, 'error'],
    ['batch', 2, 'denied'],
    ['lookupResources', undefined, 'ok'],
    ['lookupSubjects', undefined, 'ok'],
  ]);
  expect(lines[0]).toMatchObject({ requestId: null, resource: 'document:readme', subject: 'user:alice' });
  expect(lines[1]!.reason).toContain('nope');
  expect(lines[3]).toMatchObject({
    subject: 'user:alice',
    resource: 'document:*',
    permission: 'view',
    results: lookup.resourceIds.length,
  });
  expect(lines[4]).toMatchObject({ subject: 'user:*', resource: 'document:plan', results: 2 });
  for (const l of lines) for (const k of COMMON) expect(l).toHaveProperty(k);
});

it('samples allowed decisions at the configured rate and keeps every denial when asked', async () => {
  const sink = new MemorySink();
  // Alternating draws: 0.25 (< 0.5, kept), 0.75 (dropped), ...
  let n = 0;
  const log = logWith(sink, {
    sampleRate: 0.5,
    alwaysLogDenials: true,
    random: () => (n++ % 2 === 0 ? 0.25 : 0.75),
  });
  const service = await start(log);
  const explain = vi.spyOn(service.generation.replica.engine, 'explain');
  for (let i = 0; i < 10; i++) await service.check(checkOf('document:plan', 'view', 'user:alice'), ctx());
  for (let i = 0; i < 4; i++) await service.check(checkOf('document:plan', 'edit', 'user:alice'), ctx());
  await log.flush();
  const lines = sink.lines();
  expect(lines.filter((l) => l.decision === 'allowed')).toHaveLength(5);
  expect(lines.filter((l) => l.decision === 'denied')).toHaveLength(4);
  // Explained only the sampled decisions.
  expect(explain).toHaveBeenCalledTimes(9);

  const sink2 = new MemorySink();
  const quiet = logWith(sink2, { sampleRate: 0, alwaysLogDenials: false });
  const service2 = await start(quiet);
  const explain2 = vi.spyOn(service2.generation.replica.engine, 'explain');
  await service2.check(checkOf('document:plan', 'view', 'user:alice'), ctx());
  await service2.check(checkOf('document:plan', 'edit', 'user:alice'), ctx());
  await quiet.flush();
  expect(sink2.lines()).toEqual([]);
  expect(explain2).not.toHaveBeenCalled();
});

it('drops and counts lines while a slow sink is busy, without holding up a single check', async () => {
  const sink = new MemorySink();
  sink.hold();
  const log = logWith(sink, { capacity: 10 });
  const service = await start(log);
  const registry = new Registry();
  registerDecisionLogMetrics(registry, log);
  // First 10 lines fill the buffer; the sink takes them as one chunk and never finishes.
  for (let i = 0; i < 10; i++) service.checkNow(checkOf('document:plan', 'view', 'user:alice'), ctx());
  await vi.waitFor(() => expect(sink.writes).toBe(1), PATIENCE);
  // Checks still answer synchronously while the sink hangs: 10 more fill the buffer, 25 are dropped.
  for (let i = 0; i < 35; i++) {
    const r = service.checkNow(checkOf('document:plan', 'view', 'user:alice'), ctx());
    expect(r).not.toBeInstanceOf(Promise);
    expect((r as { allowed: boolean }).allowed).toBe(true);
  }
  expect(log.dropped).toBe(25);
  const metric = await registry.getSingleMetricAsString('gatehouse_decision_logs_dropped_total');
  expect(metric).toMatch(/^gatehouse_decision_logs_dropped_total 25$/m);
  sink.release();
  await log.flush();
  expect(log.written).toBe(20);
  expect(sink.lines()).toHaveLength(20);
});

it('reports a failing sink as dropped lines and keeps answering', async () => {
  const failing: DecisionSink = {
    write: () => Promise.reject(new Error('disk full')),
    close: async () => undefined,
  };
  const log = logWith(failing);
  const errors: Error[] = [];
  log.onSinkError = (err) => errors.push(err);
  const service = await start(log);
  expect((await service.check(checkOf('document:plan', 'view', 'user:alice'), ctx())).allowed).toBe(true);
  await log.flush();
  expect(log.dropped).toBe(1);
  expect(errors.map((e) => e.message)).toEqual(['disk full']);
});

it('logs nothing and never explains when decision logs are off', async () => {
  const service = await start(undefined);
  const explain = vi.spyOn(service.generation.replica.engine, 'explain');
  await service.check(checkOf('document:plan', 'view', 'user:alice'), ctx());
  await service.checkBatch({ items: [checkOf('document:plan', 'edit', 'user:alice')] }, ctx());
  expect(explain).not.toHaveBeenCalled();
  const registry = new Registry();
  registerDecisionLogMetrics(registry, undefined);
  expect(await registry.getSingleMetricAsString('gatehouse_decision_logs_dropped_total')).toMatch(
    /^gatehouse_decision_logs_dropped_total 0$/m,
  );
});

it('appends lines to a file readable by its owner only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-decisions-'));
  try {
    const path = join(dir, 'decisions.log');
    const log = logWith(openDecisionSink(path));
    const service = await start(log);
    await service.check(checkOf('document:plan', 'view', 'user:alice'), ctx());
    await service.check(checkOf('document:plan', 'edit', 'user:alice'), ctx());
    await log.close();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l: { decision: string }) => l.decision)).toEqual(['allowed', 'denied']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('reads the decision log settings from flags and env, and rejects a rate outside 0..1', async () => {
  const { buildConfig, ConfigError } = await import('../../server/src/config/load-config.js');
  const sources = (argv: string[], env: Record<string, string> = {}) => ({
    argv,
    env,
    readTextFile: (): string => '',
  });
  expect(buildConfig(sources([]))).toMatchObject({
    decisionLog: 'off',
    decisionLogSampleRate: 1,
    decisionLogAlwaysDenials: true,
  });
  expect(
    buildConfig(
      sources(['--decision-log', 'stdout', '--decision-log-sample-rate', '0.25'], {
        GATEHOUSE_DECISION_LOG_ALWAYS_DENIALS: 'false',
      }),
    ),
  ).toMatchObject({ decisionLog: 'stdout', decisionLogSampleRate: 0.25, decisionLogAlwaysDenials: false });
  expect(() => buildConfig(sources(['--decision-log-sample-rate', '1.5']))).toThrow(ConfigError);
  expect(() => buildConfig(sources(['--decision-log-sample-rate', 'half']))).toThrow(/from 0 to 1/);
});
