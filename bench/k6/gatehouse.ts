// k6 load script for Gatehouse: the same scenarios the Node harness runs (bench/harness), for
// users who have k6. One self-contained file (k6 resolves local imports literally), the scenario
// chosen with -e SCENARIO=http-check|grpc-check|http-batch|grpc-batch|http-lookup.
//
//   node --import tsx bench/datasets/cli.ts --dataset group-visibility --size M --out bench/out/gv
//   k6 run -e SCENARIO=grpc-check -e CONCURRENCY=16 -e QUESTIONS=../out/gv/questions.json bench/k6/gatehouse.ts
//   k6 run -e SCENARIO=grpc-check -e CONCURRENCY=16 -e RATE=2000 ...   (a steady load, as the steady rows)
import { check } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import http from 'k6/http';
import grpc from 'k6/net/grpc';
import type { Options } from 'k6/options';

/** A question as written by bench/datasets/cli.ts (the harness's Question). */
interface Question {
  resourceType: string;
  resourceId: string;
  permission: string;
  subjectType: string;
  subjectId: string;
  expected?: boolean;
}

const SCENARIO = __ENV.SCENARIO ?? 'http-check';
const HTTP_BASE = __ENV.GATEHOUSE_HTTP_URL ?? 'http://127.0.0.1:8080';
const GRPC_ADDR = __ENV.GATEHOUSE_GRPC_ADDR ?? '127.0.0.1:50051';
const BATCH_SIZE = Number(__ENV.BATCH_SIZE ?? '100');
const PAGE_SIZE = Number(__ENV.PAGE_SIZE ?? '1000');
const JSON_PARAMS = { headers: { 'content-type': 'application/json' } };
const HAS = 'PERMISSIONSHIP_HAS_PERMISSION';
const NO = 'PERMISSIONSHIP_NO_PERMISSION';

const questions: Question[] = new SharedArray(
  'questions',
  () => JSON.parse(open(__ENV.QUESTIONS ?? '../out/questions.json')) as Question[],
);

const VUS = Number(__ENV.CONCURRENCY ?? '16');
const DURATION = __ENV.DURATION ?? '30s';

/**
 * Closed loop like the Node harness: CONCURRENCY virtual users for DURATION. With RATE (calls
 * per second), a steady load like the harness's `steady` rows instead: k6 starts calls at that
 * rate on at most CONCURRENCY virtual users (an open model; the harness paces each client).
 */
export const options: Options = {
  scenarios: {
    load:
      __ENV.RATE === undefined
        ? { executor: 'constant-vus', vus: VUS, duration: DURATION }
        : {
            executor: 'constant-arrival-rate',
            rate: Number(__ENV.RATE),
            timeUnit: '1s',
            preAllocatedVUs: VUS,
            maxVUs: VUS,
            duration: DURATION,
          },
  },
  summaryTrendStats: ['avg', 'p(50)', 'p(90)', 'p(99)', 'p(99.9)', 'max'],
  // An error or a wrong answer fails the run instead of counting as throughput.
  thresholds: { checks: ['rate==1'] },
};

const client = new grpc.Client();
if (SCENARIO.startsWith('grpc')) client.load(['../../proto'], 'gatehouse/v1/gatehouse.proto');

function pick(offset = 0): Question {
  const i =
    exec.vu.idInTest * 7919 +
    exec.vu.iterationInScenario * (SCENARIO.endsWith('batch') ? BATCH_SIZE : 1) +
    offset;
  return questions[i % questions.length]!;
}

function wireItem(q: Question): Record<string, unknown> {
  return {
    resource: { objectType: q.resourceType, objectId: q.resourceId },
    permission: q.permission,
    subject: { object: { objectType: q.subjectType, objectId: q.subjectId } },
  };
}

function answeredAsExpected(q: Question, permissionship: string | undefined): boolean {
  if (q.expected === undefined) return permissionship === HAS || permissionship === NO;
  return permissionship === (q.expected ? HAS : NO);
}

function batchItems(): { qs: Question[]; items: Record<string, unknown>[] } {
  const qs = Array.from({ length: BATCH_SIZE }, (_, k) => pick(k));
  return { qs, items: qs.map(wireItem) };
}

function httpCheck(): void {
  const q = pick();
  const res = http.post(`${HTTP_BASE}/v1/check`, JSON.stringify(wireItem(q)), JSON_PARAMS);
  check(res, {
    'status 200': (r) => r.status === 200,
    'answered as expected': (r) =>
      r.status === 200 && answeredAsExpected(q, r.json('permissionship') as string),
  });
}

function grpcCheck(): void {
  const q = pick();
  const res = client.invoke('gatehouse.v1.GatehouseService/Check', wireItem(q));
  check(res, {
    'status OK': (r) => r.status === grpc.StatusOK,
    'answered as expected': (r) =>
      answeredAsExpected(q, (r.message as { permissionship?: string } | null)?.permissionship),
  });
}

function httpBatch(): void {
  const { qs, items } = batchItems();
  const res = http.post(`${HTTP_BASE}/v1/check/batch`, JSON.stringify({ items }), JSON_PARAMS);
  const results = res.status === 200 ? (res.json('results') as Array<{ permissionship?: string }>) : [];
  check(res, {
    'status 200': (r) => r.status === 200,
    'every item answered as expected': () =>
      results.length === qs.length && qs.every((q, i) => answeredAsExpected(q, results[i]?.permissionship)),
  });
}

function grpcBatch(): void {
  const { qs, items } = batchItems();
  const res = client.invoke('gatehouse.v1.GatehouseService/CheckBatch', { items });
  const results = (res.message as { results?: Array<{ permissionship?: string }> } | null)?.results ?? [];
  check(res, {
    'status OK': (r) => r.status === grpc.StatusOK,
    'every item answered as expected': () =>
      results.length === qs.length && qs.every((q, i) => answeredAsExpected(q, results[i]?.permissionship)),
  });
}

function httpLookup(): void {
  const q = pick();
  let cursor = '';
  let ok = true;
  do {
    const res = http.post(
      `${HTTP_BASE}/v1/lookup/resources`,
      JSON.stringify({
        resourceObjectType: q.resourceType,
        permission: q.permission,
        subject: { object: { objectType: q.subjectType, objectId: q.subjectId } },
        pageSize: PAGE_SIZE,
        cursor,
      }),
      JSON_PARAMS,
    );
    ok = res.status === 200;
    cursor = ok ? ((res.json('nextCursor') as string | undefined) ?? '') : '';
  } while (ok && cursor !== '');
  check(null, { 'every page answered': () => ok });
}

const SCENARIOS: Record<string, () => void> = {
  'http-check': httpCheck,
  'grpc-check': grpcCheck,
  'http-batch': httpBatch,
  'grpc-batch': grpcBatch,
  'http-lookup': httpLookup,
};

export default function (): void {
  const run = SCENARIOS[SCENARIO];
  if (run === undefined)
    throw new Error(`SCENARIO '${SCENARIO}' is not one of ${Object.keys(SCENARIOS).join(', ')}`);
  if (SCENARIO.startsWith('grpc') && exec.vu.iterationInScenario === 0)
    client.connect(GRPC_ADDR, { plaintext: true });
  run();
}
