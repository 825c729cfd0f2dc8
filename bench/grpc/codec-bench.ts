// Codec micro-benchmark for the gRPC Check path: the server's protobufjs reflection codecs vs
// pbjs static-module codecs vs a hand-written codec, each encoding and decoding CheckRequest /
// CheckResponse and CheckBatchRequest(100) / CheckBatchResponse built from sampled dataset
// questions. Variants alternate inside every round (rotating which goes first); medians of rounds
// of CPU time per call.
//
//   npx tsx bench/grpc/codec-bench.ts [--rounds 15] [--ms 100]
import { parseArgs } from 'node:util';
import { gatehouseProto } from '../../server/src/transport/grpc/proto.js';
import { createDataset } from '../datasets/index.js';
import { batchRequest, checkRequest } from '../harness/wire.js';
import * as hand from './hand-codec.js';
import { loadStaticCodecs } from './static-codecs.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, ms: { type: 'string', default: '100' } },
});
const ROUNDS = Number(values.rounds);
const TARGET_MS = Number(values.ms);

type Op = (i: number) => unknown;
interface Variant {
  readonly name: string;
  /** Absent where the variant does not implement the operation. */
  readonly ops: Partial<Record<OpName, Op>>;
}
const OP_NAMES = [
  'CheckRequest decode',
  'CheckResponse encode',
  'CheckRequest encode',
  'CheckResponse decode',
  'CheckBatchRequest(100) decode',
  'CheckBatchResponse(100) encode',
  'CheckBatchRequest(100) encode',
  'CheckBatchResponse(100) decode',
] as const;
type OpName = (typeof OP_NAMES)[number];

const dataset = await createDataset('group-visibility', { relationships: 10_000, seed: 1 });
const questions = dataset.sampleChecks(1000);
const TOKEN = 'GH1.7clzi.0k3q';
const checkMsgs = questions.map((q) => checkRequest(q));
const batchMsgs = Array.from({ length: 10 }, (_, i) => batchRequest(questions, i * 100, 100));
const checkRes = questions.map((q) => ({
  permissionship: q.expected ? 2 : 1,
  checkedAt: { token: TOKEN },
}));
const batchRes = batchMsgs.map((b, i) => ({
  results: b.items.map((_, j) => ({ permissionship: (i + j) % 3 === 0 ? 2 : 1 })),
  checkedAt: { token: TOKEN },
}));

const root = gatehouseProto();
const R = {
  checkReq: root.lookupType('gatehouse.v1.CheckRequest'),
  checkRes: root.lookupType('gatehouse.v1.CheckResponse'),
  batchReq: root.lookupType('gatehouse.v1.CheckBatchRequest'),
  batchRes: root.lookupType('gatehouse.v1.CheckBatchResponse'),
};
const S = await loadStaticCodecs();

// The same bytes feed every decoder: protobufjs reflection encodes the inputs once.
const checkReqBytes = checkMsgs.map((m) => Buffer.from(R.checkReq.encode(m).finish()));
const checkResBytes = checkRes.map((m) => Buffer.from(R.checkRes.encode(m).finish()));
const batchReqBytes = batchMsgs.map((m) => Buffer.from(R.batchReq.encode(m).finish()));
const batchResBytes = batchRes.map((m) => Buffer.from(R.batchRes.encode(m).finish()));

const n = (i: number, k: number): number => i % k;
const variants: Variant[] = [
  {
    name: 'reflection',
    ops: {
      'CheckRequest decode': (i) => R.checkReq.decode(checkReqBytes[n(i, 1000)]!),
      'CheckResponse encode': (i) => R.checkRes.encode(checkRes[n(i, 1000)]!).finish(),
      'CheckRequest encode': (i) => R.checkReq.encode(checkMsgs[n(i, 1000)]!).finish(),
      'CheckResponse decode': (i) => R.checkRes.decode(checkResBytes[n(i, 1000)]!),
      'CheckBatchRequest(100) decode': (i) => R.batchReq.decode(batchReqBytes[n(i, 10)]!),
      'CheckBatchResponse(100) encode': (i) => R.batchRes.encode(batchRes[n(i, 10)]!).finish(),
      'CheckBatchRequest(100) encode': (i) => R.batchReq.encode(batchMsgs[n(i, 10)]!).finish(),
      'CheckBatchResponse(100) decode': (i) => R.batchRes.decode(batchResBytes[n(i, 10)]!),
    },
  },
  {
    name: 'pbjs static',
    ops: {
      'CheckRequest decode': (i) => S.CheckRequest!.decode(checkReqBytes[n(i, 1000)]!),
      'CheckResponse encode': (i) => S.CheckResponse!.encode(checkRes[n(i, 1000)]!).finish(),
      'CheckRequest encode': (i) => S.CheckRequest!.encode(checkMsgs[n(i, 1000)]!).finish(),
      'CheckResponse decode': (i) => S.CheckResponse!.decode(checkResBytes[n(i, 1000)]!),
      'CheckBatchRequest(100) decode': (i) => S.CheckBatchRequest!.decode(batchReqBytes[n(i, 10)]!),
      'CheckBatchResponse(100) encode': (i) => S.CheckBatchResponse!.encode(batchRes[n(i, 10)]!).finish(),
      'CheckBatchRequest(100) encode': (i) => S.CheckBatchRequest!.encode(batchMsgs[n(i, 10)]!).finish(),
      'CheckBatchResponse(100) decode': (i) => S.CheckBatchResponse!.decode(batchResBytes[n(i, 10)]!),
    },
  },
  {
    name: 'hand-written',
    ops: {
      'CheckRequest decode': (i) => hand.decodeCheckRequest(checkReqBytes[n(i, 1000)]!),
      'CheckResponse encode': (i) => hand.encodeCheckResponse(checkRes[n(i, 1000)]!),
      'CheckBatchRequest(100) decode': (i) => hand.decodeCheckBatchRequest(batchReqBytes[n(i, 10)]!),
      'CheckBatchResponse(100) encode': (i) => hand.encodeCheckBatchResponse(batchRes[n(i, 10)]!),
    },
  },
];

// Every decoder must read back what was encoded before any of them is timed.
for (const v of variants) {
  for (let i = 0; i < 1000; i++) {
    const got = v.ops['CheckRequest decode']!(i) as Record<string, unknown>;
    const want = checkMsgs[i]!;
    const gotSubject = got.subject as { object: { objectId: string }; optionalRelation?: string };
    const gotResource = got.resource as { objectId: string };
    if (
      gotResource.objectId !== want.resource.objectId ||
      gotSubject.object.objectId !== want.subject.object.objectId ||
      (gotSubject.optionalRelation ?? '') !== want.subject.optionalRelation ||
      got.permission !== want.permission
    ) {
      throw new Error(`${v.name} decoded CheckRequest ${i} differently`);
    }
  }
  const items = (v.ops['CheckBatchRequest(100) decode']!(3) as { items: unknown[] }).items;
  if (items.length !== 100) throw new Error(`${v.name} decoded ${items.length} batch items`);
  const enc = v.ops['CheckResponse encode']!(7) as Uint8Array;
  if (!Buffer.from(enc).equals(checkResBytes[7]!))
    throw new Error(`${v.name} encodes CheckResponse differently`);
  const benc = v.ops['CheckBatchResponse(100) encode']!(3) as Uint8Array;
  if (!Buffer.from(benc).equals(batchResBytes[3]!))
    throw new Error(`${v.name} encodes CheckBatchResponse differently`);
}

let sink = 0;
/**
 * CPU time (user + system) per call rather than wall time: on a shared 2-core machine a cell
 * descheduled for a while would otherwise read as a slow codec.
 */
function nsPerOp(op: Op, iterations: number): number {
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const r = op(i);
    if (r === undefined) sink++;
  }
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / iterations;
}

/** Iterations that take about TARGET_MS for this op, found by a warm-up run. */
function calibrate(op: Op): number {
  let iterations = 1000;
  for (;;) {
    const ns = nsPerOp(op, iterations);
    if (ns * iterations > 20e6) return Math.max(1000, Math.round((TARGET_MS * 1e6) / ns));
    iterations *= 4;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const samples = new Map<string, number[]>();
const iterationsOf = new Map<string, number>();
for (const opName of OP_NAMES) {
  for (const v of variants) {
    const op = v.ops[opName];
    if (op !== undefined) iterationsOf.set(`${v.name}|${opName}`, calibrate(op));
  }
}
for (let round = 0; round < ROUNDS; round++) {
  for (const opName of OP_NAMES) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + round) % variants.length]!;
      const op = v.ops[opName];
      if (op === undefined) continue;
      const key = `${v.name}|${opName}`;
      const list = samples.get(key) ?? [];
      list.push(nsPerOp(op, iterationsOf.get(key)!));
      samples.set(key, list);
    }
  }
}

const fmt = (ns: number | undefined): string =>
  ns === undefined ? '—' : ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
const get = (v: string, op: OpName): number | undefined => {
  const s = samples.get(`${v}|${op}`);
  return s === undefined ? undefined : median(s);
};
const names = variants.map((v) => v.name);
const lines = [
  `| operation | ${names.join(' | ')} | static/reflection | hand/reflection |`,
  `| --- | ${names.map(() => '---:').join(' | ')} | ---: | ---: |`,
];
for (const opName of OP_NAMES) {
  const r = get('reflection', opName)!;
  const s = get('pbjs static', opName)!;
  const h = get('hand-written', opName);
  lines.push(
    `| ${opName} | ${names.map((v) => fmt(get(v, opName))).join(' | ')} | ${(s / r).toFixed(2)}× | ${
      h === undefined ? '—' : `${(h / r).toFixed(2)}×`
    } |`,
  );
}
const serverPath = (v: string, req: OpName, res: OpName): number => get(v, req)! + get(v, res)!;
for (const [label, req, res] of [
  ['server path, Check (decode request + encode response)', 'CheckRequest decode', 'CheckResponse encode'],
  ['server path, CheckBatch(100)', 'CheckBatchRequest(100) decode', 'CheckBatchResponse(100) encode'],
] as const) {
  const r = serverPath('reflection', req, res);
  const s = serverPath('pbjs static', req, res);
  const h = serverPath('hand-written', req, res);
  lines.push(
    `| ${label} | ${fmt(r)} | ${fmt(s)} | ${fmt(h)} | ${(s / r).toFixed(2)}× | ${(h / r).toFixed(2)}× |`,
  );
}
process.stdout.write(
  `node ${process.version}, ${ROUNDS} rounds × ~${TARGET_MS} ms per cell, medians of CPU ns per call\n${lines.join('\n')}\n`,
);
if (sink < 0) process.stdout.write('');
